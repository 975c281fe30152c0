"""The one staffing rule (common.staffing): the edge, which judges absences by it, and central, which
shows 在岗 / 非工作时间 by it, answer alike at every moment of a fortnight with a holiday and a make-up
working Saturday in it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from central.video.schedule import staffed_at
from common.profiles.loader import get_profile
from common.staffing import HALL_TZ, Period, StaffedHours
from common.worktime import WorkCalendar
from common.worktime.official import official_years
from edge.video.config import WindowConfig
from edge.video.schedule import schedule_for

TRIANGLE = [(0.0, 0.0), (0.1, 0.0), (0.1, 0.1)]


@pytest.mark.parametrize("profile", ["sichuan-2011", "shenzhen-2007"])
def test_the_edge_and_central_agree_on_when_a_window_is_staffed(profile: str) -> None:
    window = WindowConfig(name="W01", camera="C1", staff_region=TRIANGLE, customer_region=TRIANGLE)
    edge = schedule_for(window, profile)
    rules, calendar = get_profile(profile).presence, WorkCalendar(official_years())
    # 2026-09-26 (a make-up working Saturday) to 2026-10-09, National Day's week in the middle.
    start = datetime(2026, 9, 26, tzinfo=HALL_TZ)
    moments = [start + timedelta(minutes=15 * k) for k in range(14 * 24 * 4)]
    answers = [(edge.is_staffed_time(m), staffed_at(m, rules, calendar)) for m in moments]
    assert all(a == b for a, b in answers)
    assert sum(a for a, _ in answers) > 0  # some staffed time, …
    assert not any(
        a for (a, _), m in zip(answers, moments, strict=True) if m.date().day == 1
    )  # … none on 1 Oct


def test_periods_parse_print_and_refuse() -> None:
    assert str(Period.model_validate("09:00-24:00")) == "09:00-24:00"
    for bad, why in (
        ("9-12", "not a period"),
        ("12:00-09:00", "before it starts"),
        ("09:00-24:30", "past 24:00"),
    ):
        with pytest.raises(ValueError, match=why):
            Period.model_validate(bad)
    weekend = StaffedHours(working_hours=(Period.model_validate("09:00-12:00"),), breaks=(), every_day=True)
    saturday = datetime(2026, 11, 28, 10, tzinfo=HALL_TZ)
    assert weekend.staffed(saturday, is_workday=lambda _day: False) is True
    assert weekend.next_change(saturday) == datetime(2026, 11, 28, 12, tzinfo=HALL_TZ)
