"""Due dates and lights over the real 2026 calendar (National Day, make-up Saturday 10-10)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from central.cases.clock import ClockView, Light, clock_view
from central.cases.lifecycle import EventFact, EventType, ExtensionPolicy, replay
from central.core.clock import SHANGHAI
from common.profiles import get_profile
from common.worktime import WorkCalendar
from common.worktime.official import official_years

CAL = WorkCalendar(official_years())
SICHUAN = get_profile("sichuan-2011").lights
SHENZHEN = get_profile("shenzhen-2007").lights


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=SHANGHAI)


def view(
    events: list[tuple[str, datetime, dict[str, object]]], as_of: date, rules=SICHUAN, promised=10, legal=20
) -> ClockView:
    facts = [
        EventFact(type=EventType(k), at=t, event_id=f"e{n}", **extra)
        for n, (k, t, extra) in enumerate(events)
    ]  # type: ignore[arg-type]
    state = replay(facts, policy=ExtensionPolicy())
    return clock_view(
        state, calendar=CAL, promised_limit=promised, legal_limit=legal, as_of=as_of, rules=rules
    )


ACCEPTED = ("accepted", at(9, 25), {})


@pytest.mark.parametrize(
    ("as_of", "remaining", "light"),
    [
        (date(2026, 9, 28), 9, Light.GREEN),
        (date(2026, 10, 9), 5, Light.GREEN),
        (date(2026, 10, 10), 4, Light.GREEN),  # the make-up Saturday counts
        (date(2026, 10, 11), 4, Light.GREEN),
        (date(2026, 10, 12), 3, Light.YELLOW),  # QTH-2: yellow when 3 working days remain
        (date(2026, 10, 15), 0, Light.YELLOW),  # due date: 0 remain, not yet overdue
        (date(2026, 10, 16), -1, Light.RED),
        (date(2026, 10, 17), -1, Light.RED),  # the Saturday after: overdue by date
    ],
)
def test_lights_across_national_day(as_of: date, remaining: int, light: Light) -> None:
    v = view([ACCEPTED], as_of)
    assert v.due_date == date(2026, 10, 15)
    assert v.legal_due_date == date(2026, 10, 29)
    assert v.remaining_working_days == remaining
    assert v.light is light
    assert v.green_warning is False


def test_shenzhen_green_warning_on_the_due_date_only() -> None:
    assert view([ACCEPTED], date(2026, 10, 15), rules=SHENZHEN).green_warning is True
    assert view([ACCEPTED], date(2026, 10, 14), rules=SHENZHEN).green_warning is False


def test_legal_basis_profile_drives_light_by_legal_due_date() -> None:
    legal = SICHUAN.model_copy(update={"due_basis": "legal"})
    v = view([ACCEPTED], date(2026, 10, 16), rules=legal)
    assert v.due_date == date(2026, 10, 29)
    assert v.light is Light.GREEN


def test_missing_promised_limit_uses_legal_one() -> None:
    # the ingest stores promised = legal when the item has none; the clock just receives it
    v = view([ACCEPTED], date(2026, 10, 16), promised=20)
    assert v.due_date == date(2026, 10, 29)


def test_suspension_days_after_the_start_up_to_the_resume_day_do_not_count() -> None:
    events = [ACCEPTED, ("suspended", at(9, 29), {"reason": "专家评审"}), ("resumed", at(10, 9), {})]
    v = view(events, date(2026, 10, 12))
    # 9-30, 10-8, 10-9 are not counted: due moves from 10-15 by 3 workdays
    assert v.due_date == date(2026, 10, 20)
    assert v.legal_due_date == date(2026, 11, 3)


def test_open_suspension_freezes_remaining_days_and_moves_due_date() -> None:
    events = [ACCEPTED, ("suspended", at(9, 29), {"reason": "检验检测"})]
    v = view(events, date(2026, 10, 12))
    assert v.remaining_working_days == 8
    assert v.light is Light.GREEN
    assert v.due_date == date(2026, 10, 22)
    later = view(events, date(2026, 11, 20))
    assert later.remaining_working_days == 8 and later.light is Light.GREEN


def test_correction_pause_after_acceptance() -> None:
    events = [ACCEPTED, ("correction_requested", at(10, 12), {}), ("correction_received", at(10, 14), {})]
    assert view(events, date(2026, 10, 15)).due_date == date(2026, 10, 19)


def test_extension_adds_working_days_to_both_due_dates() -> None:
    events = [ACCEPTED, ("extended", at(10, 12), {"days": 10, "reason": "情况复杂"})]
    v = view(events, date(2026, 10, 16))
    assert v.due_date == date(2026, 10, 29)
    assert v.legal_due_date == date(2026, 11, 12)
    assert v.light is Light.GREEN


@pytest.mark.parametrize(
    ("done", "on_time", "legal_overdue"),
    [(at(10, 15), True, False), (at(10, 16), False, False), (at(10, 30), False, True)],
)
def test_completed_cases_say_whether_on_time(done: datetime, on_time: bool, legal_overdue: bool) -> None:
    v = view([ACCEPTED, ("completed", done, {})], date(2026, 11, 20))
    assert v.light is None
    assert v.finished_on_time is on_time
    assert v.legal_overdue is legal_overdue


def test_open_case_past_legal_due_is_flagged() -> None:
    v = view([ACCEPTED], date(2026, 10, 30))
    assert v.light is Light.RED and v.legal_overdue is True


def test_due_date_in_missing_year_reports_calendar_missing() -> None:
    v = view([("accepted", at(12, 20), {})], date(2026, 12, 21))
    assert v.calendar_missing is True
    assert v.missing_years == (2027,)
    assert v.light is None and v.due_date is None


def test_not_yet_accepted_has_no_clock() -> None:
    v = view([("received", at(9, 25), {})], date(2026, 10, 1))
    assert v.due_date is None and v.light is None and not v.calendar_missing


def test_unknown_legal_due_date_does_not_hide_the_promised_light() -> None:
    # accepted 11-27 with 20 promised / 45 legal days: promised 12-25 is known, legal falls in 2027
    v = view([("accepted", at(11, 27), {})], date(2026, 12, 22), promised=20, legal=45)
    assert v.due_date == date(2026, 12, 25)
    assert v.legal_due_date is None
    assert v.light is Light.YELLOW and v.remaining_working_days == 3
    assert v.calendar_missing is True and v.missing_years == (2027,)
    assert v.legal_overdue is False
