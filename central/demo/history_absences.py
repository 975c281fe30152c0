"""Demo history, absences (离岗): on some working days of the last 60 the live hall's camera saw a
seat empty past the threshold; the edge agent's start and end observations go through the
production handler (`store_absences`), and an inspector reviewed them the next morning through
`confirm_absence` (which raises the absence's signal) or `dismiss_absence` (with a reason). Evidence
snapshots are optional on that path (an absence names them by id), so the history has none; the
most recent absences are left 待核实 for the demo's inspector."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.core.clock import SHANGHAI, to_utc
from central.demo.hall_sim import DEMO_CAMERA
from central.demo.history_ratings import edge_device
from central.devices.service import ObservationContext
from central.profiles.assignment import profile_for_hall
from central.registry.models import Hall, ServiceWindow
from central.video.absences import store_absences
from central.video.models import AbsenceEvent
from central.video.review import confirm_absence, dismiss_absence
from common.contract import AbsenceIn
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

ABSENCE_DAY_SHARE = 0.35  # working days with an absence at one of the live hall's windows
CONFIRM_SHARE = 0.65  # of those reviewed; the rest are dismissed
LEFT_PENDING = 2  # the latest absences wait for the demo's inspector
DISMISS_REASONS = [
    "经核实为外出协助群众填表，已向大厅负责人报备",
    "摄像机误判：工作人员在柜台侧整理材料，未离开岗位",
    "经核实为午间轮岗交接，已有人员顶岗",
]
CONFIRM_NOTES = [None, "查看录像确认无人顶岗", "经询问，工作人员离岗办理私事"]


@dataclass(frozen=True)
class _Absence:
    window: ServiceWindow
    started_at: datetime
    ended_at: datetime


def seed_absences(
    session: Session,
    rng: random.Random,
    *,
    hall_code: str,
    windows: int,
    days: list[date],
    reviewer: Principal,
    calendar: WorkCalendar,
    default_profile: str,
    now: datetime,
) -> None:
    """The live hall's absences on some of `days` at its first `windows` windows, reviewed."""
    hall = session.scalars(select(Hall).where(Hall.code == hall_code)).one()
    device = edge_device(session, hall)
    profile = profile_for_hall(session, hall_id=hall.id, default_key=default_profile)
    seats = session.scalars(
        select(ServiceWindow).where(ServiceWindow.hall_id == hall.id).order_by(ServiceWindow.code)
    ).all()[:windows]
    absences = [_absence(rng, day, rng.choice(seats)) for day in days if rng.random() < ABSENCE_DAY_SHARE]
    for absence in absences:
        delivered = absence.ended_at + timedelta(seconds=5)
        context = ObservationContext(
            session=session, device=device, now=delivered, calendar=calendar, profile=profile
        )
        store_absences(context, _observations(absence))
    session.flush()
    for absence in absences[: max(0, len(absences) - LEFT_PENDING)]:
        _review(
            session,
            rng,
            absence,
            reviewer=reviewer,
            calendar=calendar,
            default_profile=default_profile,
            now=now,
        )
    session.flush()


def _absence(rng: random.Random, day: date, window: ServiceWindow) -> _Absence:
    start = datetime.combine(day, time(9, 0), SHANGHAI) + timedelta(minutes=rng.randint(0, 7 * 60))
    return _Absence(window, to_utc(start), to_utc(start + timedelta(minutes=rng.randint(6, 45))))


def _observations(absence: _Absence) -> list[AbsenceIn]:
    """The start and the end phase, as an edge agent sends them (ids as the contract says)."""
    start_ms = int(absence.started_at.timestamp() * 1000)
    common = {"kind": "absence", "window": absence.window.code, "camera": DEMO_CAMERA}
    return [
        AbsenceIn.model_validate(
            {**common, "id": f"{absence.window.code}:abs:{start_ms}:start", "phase": "start"}
            | {"started_at": absence.started_at}
        ),
        AbsenceIn.model_validate(
            {**common, "id": f"{absence.window.code}:abs:{start_ms}:end", "phase": "end"}
            | {"started_at": absence.started_at, "ended_at": absence.ended_at}
        ),
    ]


def _review(
    session: Session,
    rng: random.Random,
    absence: _Absence,
    *,
    reviewer: Principal,
    calendar: WorkCalendar,
    default_profile: str,
    now: datetime,
) -> None:
    """The inspector's decision, on the next working morning (not yet made if that is to come)."""
    stored = session.scalars(
        select(AbsenceEvent).where(
            AbsenceEvent.window_id == absence.window.id, AbsenceEvent.started_at == absence.started_at
        )
    ).one()
    day = calendar.add_workdays(absence.started_at.astimezone(SHANGHAI).date(), 1)
    at = to_utc(datetime.combine(day, time(9, 30), SHANGHAI) + timedelta(minutes=rng.randint(0, 90)))
    if at > now:
        return
    if rng.random() < CONFIRM_SHARE:
        confirm_absence(
            session,
            absence_id=stored.id,
            principal=reviewer,
            note=rng.choice(CONFIRM_NOTES),
            now=at,
            calendar=calendar,
            default_profile=default_profile,
        )
    else:
        dismiss_absence(
            session, absence_id=stored.id, principal=reviewer, note=rng.choice(DISMISS_REASONS), now=at
        )
