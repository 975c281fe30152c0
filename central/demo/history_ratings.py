"""Demo history, ratings: the keypad presses of the last 60 days at every hall's windows, through the
production paths — a prompt opened for each case when it was received (`open_prompt`, at that
moment), then the hall's presses of each working day taken in by `ingest_presses` as the hall's edge
agent would have delivered them that evening, so the binding, its 差评 follow-ups and their deadlines
are exactly what production makes of them."""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.cases.models import Case
from central.core.clock import SHANGHAI, shanghai_date, to_utc
from central.demo.hall_sim import KEY_SHARES
from central.devices.keys import DevicePrincipal
from central.profiles.assignment import hall_profile_keys
from central.ratings.ingest import ReportedPress, ingest_presses
from central.ratings.prompts import open_prompt, staff_for_prompt
from central.registry.models import Device, Hall, ServiceWindow
from common.profiles.loader import get_profile
from common.profiles.schema import RuleProfile
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

WINDOW_RATINGS = (0, 0, 1, 1, 2)  # unbound ratings per window and working day (pressed unprompted)
DELIVERED_AT = time(18, 30)  # when a day's presses reach central (the edge agent's outbox, drained)


def edge_device(session: Session, hall: Hall) -> DevicePrincipal:
    """The hall's edge box (`EDGE-<hall>`, as `plan_hall` names it), registered if it is not yet."""
    code = f"EDGE-{hall.code}"
    device = session.scalars(select(Device).where(Device.code == code)).first()
    if device is None:
        device = Device(code=code, kind="edge", name=f"{hall.name}边缘盒", hall_id=hall.id)
        session.add(device)
        session.flush()
    return DevicePrincipal.of(device, hall, key_id="demo-history")


def working_days(calendar: WorkCalendar, *, today: date, days: int) -> list[date]:
    """The working days of the `days` days before today (today is the live hall's)."""
    return [day for back in range(days, 0, -1) if calendar.is_workday(day := today - timedelta(days=back))]


def seed_ratings(
    session: Session,
    rng: random.Random,
    *,
    days: list[date],
    calendar: WorkCalendar,
    default_profile: str,
) -> int:
    """Every hall's ratings of `days`; the number of presses delivered."""
    if not days:
        return 0
    keys = hall_profile_keys(session, default_key=default_profile)
    delivered = 0
    for hall in session.scalars(select(Hall).order_by(Hall.code)).all():
        device = edge_device(session, hall)
        profile = get_profile(keys.get(hall.id, default_profile))
        by_day = _plan_hall(session, rng, hall=hall, days=days, profile=profile)
        for day in days:
            presses = by_day.get(day)
            if not presses:
                continue
            now = datetime.combine(day, DELIVERED_AT, SHANGHAI)
            ingest_presses(
                session,
                device=device,
                presses=presses,
                profile=profile,
                calendar=calendar,
                now=to_utc(now),
            )
            delivered += len(presses)
    session.flush()
    logger.info("demo history: %d keypad presses delivered", delivered)
    return delivered


def _plan_hall(
    session: Session, rng: random.Random, *, hall: Hall, days: list[date], profile: RuleProfile
) -> dict[date, list[ReportedPress]]:
    """Prompts for the hall's cases received on `days` (opened at that moment), and the presses:
    one per prompted case a little later, and a few unprompted ones per window and day."""
    first, last = days[0], days[-1]
    valid = profile.ratings.prompt_valid_seconds
    windows = session.scalars(
        select(ServiceWindow).where(ServiceWindow.hall_id == hall.id).order_by(ServiceWindow.code)
    ).all()
    by_id = {w.id: w for w in windows}
    seq: dict[str, int] = defaultdict(int)
    by_day: dict[date, list[ReportedPress]] = {}

    def press(window: ServiceWindow, at: datetime) -> None:
        keypad = f"KP-{window.code}"
        seq[keypad] += 1
        key = rng.choices(list(KEY_SHARES), weights=list(KEY_SHARES.values()))[0]
        by_day.setdefault(shanghai_date(at), []).append(
            ReportedPress(
                observation_id=f"demo-{keypad}-{seq[keypad]}",
                window=window.code,
                keypad=keypad,
                seq=seq[keypad],
                key=key,
                uptime_ms=seq[keypad] * 60_000,
                at=at,
            )
        )

    cases = session.scalars(
        select(Case)
        .where(Case.hall_id == hall.id, Case.window_id.is_not(None), Case.received_at.is_not(None))
        .order_by(Case.id)
    ).all()
    for case in cases:
        assert case.received_at is not None and case.window_id is not None  # the query's conditions
        received = to_utc(case.received_at)
        if not first <= shanghai_date(received) <= last or case.window_id not in by_id:
            continue
        window = by_id[case.window_id]
        staff = staff_for_prompt(session, window=window, case=case, staff=None)
        open_prompt(
            session, window=window, case=case, staff=staff, source="case_event", now=received, profile=profile
        )
        # the citizen presses well within the prompt's validity
        press(window, received + timedelta(seconds=rng.randint(15, min(90, valid))))
    for day in days:
        for window in windows:
            for _ in range(rng.choice(WINDOW_RATINGS)):
                opening = datetime.combine(day, time(9, 0), SHANGHAI)
                press(window, to_utc(opening + timedelta(seconds=rng.randint(0, 8 * 3600))))
    for presses in by_day.values():
        presses.sort(key=lambda p: p.at)
    return by_day
