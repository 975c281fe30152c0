"""A working-day calendar built from per-year rules.

China moves working days (调休): a covered year lists its weekday holidays and its make-up
weekend workdays. A year nobody covered is never guessed: asking about it raises
`CalendarMissingError`, which callers surface as "calendar missing".
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

logger = logging.getLogger(__name__)


class CalendarMissingError(LookupError):
    """A date falls in a year the calendar does not cover."""

    def __init__(self, years: Iterable[int]) -> None:
        self.years = sorted(set(years))
        listed = "、".join(str(y) for y in self.years)
        super().__init__(f"working-day calendar missing for year(s) {listed}")


@dataclass(frozen=True)
class YearRule:
    """One covered year: which dates deviate from the Monday-to-Friday rule."""

    year: int
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    source: str = "official"

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


class WorkCalendar:
    """Immutable working-day calendar over a set of covered years.

    `count_through(d)` — the number of workdays on or before `d` since the first covered
    year — is the one primitive; everything else (adding, counting between) derives from it,
    so the arithmetic is exact and vectorisable (see `workday_ordinals`).
    """

    def __init__(self, years: Mapping[int, YearRule]) -> None:
        self._years: dict[int, YearRule] = dict(years)
        self._workdays: list[date] = []
        self._first_year = min(self._years) if self._years else 0
        self._last_year = max(self._years) if self._years else -1
        for year in sorted(self._years):
            rule = self._years[year]
            day = date(year, 1, 1)
            while day.year == year:
                if rule.is_workday(day):
                    self._workdays.append(day)
                day += timedelta(days=1)

    # -- coverage ---------------------------------------------------------------------------
    @property
    def covered_years(self) -> list[int]:
        return sorted(self._years)

    def year_rule(self, year: int) -> YearRule | None:
        return self._years.get(year)

    def missing_years(self, first: int, last: int) -> list[int]:
        return [y for y in range(first, last + 1) if y not in self._years]

    def require(self, *days: date) -> None:
        """Raise unless every year from the earliest to the latest given date is covered."""
        if not days:
            return
        missing = self.missing_years(min(days).year, max(days).year)
        if missing:
            raise CalendarMissingError(missing)

    # -- primitives -------------------------------------------------------------------------
    def is_workday(self, day: date) -> bool:
        rule = self._years.get(day.year)
        if rule is None:
            raise CalendarMissingError([day.year])
        return rule.is_workday(day)

    def count_through(self, day: date) -> int:
        """Workdays on or before `day` (counted from the first covered year)."""
        self.require(day)
        return bisect.bisect_right(self._workdays, day)

    def workdays_between(self, start: date, end: date) -> int:
        """Workdays in the half-open interval (start, end]; negative when end < start."""
        self.require(start, end)
        return bisect.bisect_right(self._workdays, end) - bisect.bisect_right(self._workdays, start)

    def add_workdays(self, start: date, days: int) -> date:
        """The `days`-th workday after `start` (the start day itself is not counted).

        `days == 0` returns `start`. Raises `CalendarMissingError` when the answer would
        need a year that is not covered.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        self.require(start)
        if days == 0:
            return start
        index = bisect.bisect_right(self._workdays, start) + days - 1
        if index >= len(self._workdays):
            raise CalendarMissingError([self._last_year + 1])
        result = self._workdays[index]
        self.require(start, result)  # a gap year in between must not be skipped silently
        return result
