"""Official working-day data from the `chinesecalendar` package (State Council notices)."""

from __future__ import annotations

import logging
from datetime import date
from functools import cache

import chinese_calendar

from common.worktime.calendar import YearRule

logger = logging.getLogger(__name__)


def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@cache
def official_years() -> dict[int, YearRule]:
    """Every year the installed package covers, as `YearRule`s (2004–2026 with 1.11)."""
    years = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    rules: dict[int, YearRule] = {}
    for year in years:
        if not _package_covers(year):
            continue
        rules[year] = YearRule(
            year=year,
            holidays=frozenset(d for d in chinese_calendar.holidays if d.year == year),
            workdays=frozenset(d for d in chinese_calendar.workdays if d.year == year),
            source="official",
        )
    logger.debug("official calendar covers %s..%s", min(rules), max(rules))
    return rules
