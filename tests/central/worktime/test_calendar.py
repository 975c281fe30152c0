"""Working-day arithmetic against the official 2026 data and administrator years (LAW art. 82)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.worktime import CalendarMissingError, WorkCalendar, YearRule
from common.worktime.official import official_years

CAL = WorkCalendar(official_years())


def test_official_data_covers_2004_to_2026_and_not_2027() -> None:
    assert CAL.covered_years[0] == 2004
    assert CAL.covered_years[-1] == 2026
    assert CAL.missing_years(2025, 2027) == [2027]


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 9, 20), True),  # make-up Sunday (调休)
        (date(2026, 10, 10), True),  # make-up Saturday
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 11, 27), True),
    ],
)
def test_2026_holidays_and_make_up_days(day: date, workday: bool) -> None:
    assert CAL.is_workday(day) is workday


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # accepted Friday 2026-09-25: 9-28, 9-29, 9-30, (holiday 10-1..7), 10-8, 10-9, 10-10 (Sat, make-up)
        (date(2026, 9, 25), 3, date(2026, 9, 30)),
        (date(2026, 9, 25), 4, date(2026, 10, 8)),
        (date(2026, 9, 25), 6, date(2026, 10, 10)),
        (date(2026, 9, 25), 10, date(2026, 10, 15)),
        (date(2026, 9, 25), 20, date(2026, 10, 29)),
        # accepted on the make-up Sunday: the day of acceptance itself is not counted (民法典 art. 201)
        (date(2026, 9, 20), 1, date(2026, 9, 21)),
        # accepted during the holiday: counting starts on the first workday after it
        (date(2026, 10, 3), 1, date(2026, 10, 8)),
        (date(2026, 10, 9), 1, date(2026, 10, 10)),
        (date(2026, 10, 9), 2, date(2026, 10, 12)),
        (date(2026, 11, 27), 0, date(2026, 11, 27)),
    ],
)
def test_add_workdays(start: date, days: int, expected: date) -> None:
    assert CAL.add_workdays(start, days) == expected


def test_counting_into_a_missing_year_is_refused_not_guessed() -> None:
    with pytest.raises(CalendarMissingError) as info:
        CAL.add_workdays(date(2026, 12, 20), 20)
    assert info.value.years == [2027]
    with pytest.raises(CalendarMissingError):
        CAL.is_workday(date(2027, 1, 4))
    with pytest.raises(CalendarMissingError):
        CAL.workdays_between(date(2026, 12, 30), date(2027, 1, 5))


def test_gap_year_is_never_skipped() -> None:
    cal = WorkCalendar({2025: official_years()[2025], 2027: YearRule(year=2027, source="administrator")})
    with pytest.raises(CalendarMissingError) as info:
        cal.add_workdays(date(2025, 12, 30), 5)
    assert info.value.years == [2026]


def test_administrator_year_with_holidays_and_make_up_days() -> None:
    rule = YearRule(
        year=2027,
        holidays=frozenset({date(2027, 1, 1)}),
        workdays=frozenset({date(2027, 1, 9)}),  # a Saturday
        source="administrator",
    )
    cal = WorkCalendar({**official_years(), 2027: rule})
    assert cal.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert cal.add_workdays(date(2027, 1, 8), 1) == date(2027, 1, 9)
    assert cal.workdays_between(date(2026, 12, 30), date(2027, 1, 11)) == 8


@given(
    start=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 6, 30)),
    days=st.integers(min_value=0, max_value=60),
)
def test_add_and_count_agree(start: date, days: int) -> None:
    end = CAL.add_workdays(start, days)
    assert CAL.workdays_between(start, end) == days
    if days:
        assert CAL.is_workday(end)
        # no workday is skipped: walking day by day finds exactly `days` workdays
        walked = sum(CAL.is_workday(start + timedelta(n)) for n in range(1, (end - start).days + 1))
        assert walked == days
