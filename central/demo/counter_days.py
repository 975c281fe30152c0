"""Demo counter days: on the last `COUNTER_DAYS` working days before today the live hall's camera
windows served a realistic crowd, so dual-track detection and data supervision have something to
judge on first start.

* Citizens came to W01–W04 (the camera's windows) through the hall's day (busy mornings, a lunch
  dip), about 65 a window a day. Some only asked a question (`ENQUIRY_SHARE`: no case); the rest were
  served a counter service (即办件, `central.demo.registry_data.COUNTER_ITEMS`): accepted at the window
  and completed there minutes later. The seeded permits' cases at those windows were visitors too.
* One window (`UNDER_RECORDING`) entered only part of what it served, day after day (体外循环): its
  days are flagged 疑似体外循环, each with its yellow signal.
* One hour at one window (`UNSEEN`) the camera counted nobody at the counter while two cases were
  accepted there (虚拟运行): data supervision's `unseen_acceptance` rule finds it.

Everything goes through the production paths: the case events through the push API's service
(`submit_raw_events`), the camera's hourly counts through the edge observation handler
(`store_visitor_counts`, delivered by the hall's edge box after closing time), and each finished day,
oldest first, through the real judgement (`central.dualtrack.judge.judge_day`), as the signal pass
catches up. Deterministic (the caller's random generator), relative to today.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.cases.models import CaseEvent
from central.cases.service import submit_raw_events
from central.core.actor import Actor
from central.core.clock import SHANGHAI, shanghai_date, to_utc
from central.demo.hall_sim import DEMO_CAMERA
from central.demo.history_ratings import edge_device
from central.demo.registry_data import COUNTER_ITEM_NO
from central.devices.service import ObservationContext
from central.dualtrack.judge import judge_day
from central.dualtrack.models import DualTrackJudgement
from central.dualtrack.rule import Outcome
from central.profiles.assignment import profile_for_hall
from central.registry.models import Hall, Item, ServiceWindow, Staff
from central.video.handlers import store_visitor_counts
from common.contract import VisitorCountIn
from common.profiles.loader import get_profile
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

COUNTER_DAYS = 5  # working days before today
# Citizens arriving at one window in each Shanghai clock hour (the hall opens 09:00–17:30).
ARRIVALS = {9: 8, 10: 10, 11: 9, 12: 4, 13: 5, 14: 9, 15: 10, 16: 8, 17: 3}
ENQUIRY_SHARE = 0.12  # asked a question, left no case
UNDER_RECORDING = ("W02", 0.5)  # the window, and the share of its served citizens it never entered
UNSEEN = ("W04", 2, (16, 15, 14, 11))  # the window, the seeded day (from the last), candidate hours
DELIVERED_AT = time(18, 0)  # when a day's counts reach central (the edge agent's outbox, drained)
DEMO_COUNTER = Actor(kind="system", name="demo")


@dataclass(frozen=True)
class CounterSummary:
    days: int  # days judged (the seeded working days and the days off between them)
    cases: int  # counter cases entered
    window_days: int  # judgements
    flagged: int  # of them, 疑似体外循环
    signals: int


@dataclass(frozen=True)
class _Window:
    row: ServiceWindow
    hall: str  # its hall's code
    staff: str
    item: str


def seed_counter_days(
    session: Session,
    rng: random.Random,
    *,
    hall_code: str,
    windows: int,
    days: list[date],
    calendar: WorkCalendar,
    default_profile: str,
    now: datetime,
) -> CounterSummary:
    """Seed `days` (working days before today, oldest first) at the hall's first `windows` windows,
    then judge every day from the first through the last one finished; flushes, the caller commits."""
    hall = session.scalars(select(Hall).where(Hall.code == hall_code)).one()
    seats = _windows(session, hall, windows)
    device = edge_device(session, hall)
    profile = profile_for_hall(session, hall_id=hall.id, default_key=default_profile)
    earlier = _earlier_visitors(session, [w.row.id for w in seats], days)
    entered = 0
    for index, day in enumerate(days):
        events: list[dict[str, Any]] = []
        counts: list[VisitorCountIn] = []
        for seat in seats:
            unseen = _unseen_hour(seat, day, index, len(days), earlier)
            for hour, arrivals in ARRIVALS.items():
                came = max(0, arrivals + rng.randint(-2, 2))
                recorded = _served(rng, seat, day, hour, came, events, unseen=hour == unseen)
                visits = 0 if hour == unseen else came + earlier.get((seat.row.id, day, hour), 0)
                entered += recorded
                counts.append(_count(rng, seat, day, hour, visits))
        _push(session, events, calendar=calendar, default_profile=default_profile, now=now)
        delivered = to_utc(datetime.combine(day, DELIVERED_AT, SHANGHAI))
        context = ObservationContext(
            session=session, device=device, now=delivered, calendar=calendar, profile=profile
        )
        store_visitor_counts(context, counts)
    session.flush()
    judged = _judge(session, first=days[0], now=now, calendar=calendar, default_profile=default_profile)
    summary = _summarise(session, days=judged, cases=entered, first=days[0])
    logger.info("demo counter days: %s", summary)
    return summary


def _windows(session: Session, hall: Hall, count: int) -> list[_Window]:
    """The camera's windows, each with its first staff member and its department's counter service."""
    rows = session.scalars(
        select(ServiceWindow).where(ServiceWindow.hall_id == hall.id).order_by(ServiceWindow.code)
    ).all()[:count]
    found = []
    for row in rows:
        staff = session.scalars(
            select(Staff.code).where(Staff.window_id == row.id).order_by(Staff.code)
        ).first()
        item = session.scalars(
            select(Item.code).where(
                Item.department_id == row.department_id, Item.code.endswith(f"-XK-{COUNTER_ITEM_NO:03d}")
            )
        ).first()
        if staff is None or item is None:
            raise LookupError(f"demo window {row.code} has no staff or no counter service")
        found.append(_Window(row, hall.code, staff, item))
    return found


def _earlier_visitors(
    session: Session, window_ids: list[int], days: list[date]
) -> dict[tuple[int, date, int], int]:
    """(window id, day, hour) → the seeded permits' cases first seen at the window in that hour: each
    was a citizen at the counter, whom the camera counted too."""
    start = to_utc(datetime.combine(days[0], time(0), SHANGHAI))
    end = to_utc(datetime.combine(days[-1] + timedelta(days=1), time(0), SHANGHAI))
    rows = session.execute(
        select(CaseEvent.window_id, CaseEvent.case_id, CaseEvent.at).where(
            CaseEvent.window_id.in_(window_ids), CaseEvent.at >= start, CaseEvent.at < end
        )
    ).all()
    first: dict[tuple[int, int, date], datetime] = {}
    for window_id, case_id, at in rows:
        assert window_id is not None  # the query names the windows
        local = to_utc(at).astimezone(SHANGHAI)
        key = (window_id, case_id, local.date())
        first[key] = min(first.get(key, local), local)
    found: dict[tuple[int, date, int], int] = defaultdict(int)
    for (window_id, _case_id, day), local in first.items():
        found[(window_id, day, local.hour)] += 1
    return dict(found)


def _unseen_hour(
    seat: _Window, day: date, index: int, days: int, earlier: dict[tuple[int, date, int], int]
) -> int | None:
    """The hour of the `UNSEEN` window's day in which no earlier case of the day was entered."""
    code, from_last, hours = UNSEEN
    if seat.row.code != code or index != days - from_last:
        return None
    return next((hour for hour in hours if (seat.row.id, day, hour) not in earlier), None)


def _served(
    rng: random.Random,
    seat: _Window,
    day: date,
    hour: int,
    came: int,
    events: list[dict[str, Any]],
    *,
    unseen: bool,
) -> int:
    """Add the cases entered for the hour's citizens; returns how many. An unseen hour has two
    entries and nobody at the counter."""
    code, dropped = UNDER_RECORDING
    entered = 0
    citizens = 2 if unseen else came
    for n in range(citizens):
        if not unseen and rng.random() < ENQUIRY_SHARE:
            continue
        if not unseen and seat.row.code == code and rng.random() < dropped:
            continue  # served, never entered
        at = datetime.combine(day, time(hour, 0), SHANGHAI) + timedelta(
            minutes=rng.randint(0, 29 if hour == 17 else 55), seconds=n
        )
        number = f"JB-{day:%Y%m%d}-{seat.row.code}-{hour:02d}{n:02d}"
        common = {
            "case_no": number,
            "item_code": seat.item,
            "hall_code": seat.hall,
            "window_code": seat.row.code,
            "staff_code": seat.staff,
        }
        done = at + timedelta(minutes=rng.randint(3, 12))
        events.append({**common, "event_id": f"{number}-1", "type": "accepted", "at": at.isoformat()})
        events.append({**common, "event_id": f"{number}-2", "type": "completed", "at": done.isoformat()})
        entered += 1
    return entered


def _count(rng: random.Random, seat: _Window, day: date, hour: int, visits: int) -> VisitorCountIn:
    start = datetime.combine(day, time(hour, 0), SHANGHAI)
    seated = min(3000.0, sum(rng.uniform(150, 420) for _ in range(visits)))
    return VisitorCountIn(
        id=f"{seat.row.code}:vis:{int(start.timestamp())}:0",
        kind="visitor_count",
        window=seat.row.code,
        camera=DEMO_CAMERA,
        hour_start=start,
        visits=visits,
        seated_seconds=round(seated, 1),
    )


def _push(
    session: Session,
    events: list[dict[str, Any]],
    *,
    calendar: WorkCalendar,
    default_profile: str,
    now: datetime,
) -> None:
    if not events:
        return
    result = submit_raw_events(
        session,
        raw_events=events,
        calendar=calendar,
        default_profile_key=default_profile,
        now=now,
        source="demo",
        actor=DEMO_COUNTER,
    )
    if not result.accepted:
        bad = [r for r in result.results if r.outcome in ("invalid", "conflict")][:3]
        raise RuntimeError(f"demo counter events refused: {bad}")


def _judge(
    session: Session, *, first: date, now: datetime, calendar: WorkCalendar, default_profile: str
) -> int:
    """Judge each day from `first` through the last one finished (the profile's delay after its
    end), oldest first: each day's baseline reads the days before it."""
    delay = timedelta(minutes=get_profile(default_profile).dualtrack.judge_delay_minutes)
    last = shanghai_date(now - delay) - timedelta(days=1)
    day, judged = first, 0
    while day <= last:
        judge_day(
            session, day=day, now=now, calendar=calendar, default_profile=default_profile, instance="demo"
        )
        day, judged = day + timedelta(days=1), judged + 1
    return judged


def _summarise(session: Session, *, days: int, cases: int, first: date) -> CounterSummary:
    j = DualTrackJudgement
    rows = session.execute(
        select(j.outcome, func.count(), func.count(j.signal_id)).where(j.day >= first).group_by(j.outcome)
    ).all()
    flagged = Outcome.FLAGGED.value
    return CounterSummary(
        days=days,
        cases=cases,
        window_days=sum(int(n) for _outcome, n, _signals in rows),
        flagged=sum(int(n) for outcome, n, _signals in rows if outcome == flagged),
        signals=sum(int(s) for _outcome, _n, s in rows),
    )
