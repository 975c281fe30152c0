"""A window's schedule at the edge: when it must be staffed (the one rule, `common.staffing`, which
central uses too), its absence threshold and visit time.

The numbers come from the hall's rule profile (`presence`), overridden per window in the edge config.
Absence (离岗) is only judged while `is_staffed_time` holds; a seat empty over lunch or at night is
not an absence. Working days come from the official calendar (`chinesecalendar`, 调休 included); a
year the package does not cover falls back to Monday–Friday, with a warning once per year (the edge
has no administrator-entered years; central's calendar does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache

from common.profiles.loader import get_profile
from common.profiles.schema import PresenceRules
from common.staffing import HALL_TZ, Period, StaffedHours
from common.worktime.official import official_years
from edge.video.config import WindowConfig

logger = logging.getLogger(__name__)

__all__ = ["HALL_TZ", "WindowSchedule", "is_workday", "local_time", "presence_rules", "schedule_for"]


@dataclass(frozen=True)
class WindowSchedule:
    window: str
    hours: StaffedHours  # the one staffing rule (common.staffing), shared with central
    absence_threshold_seconds: float
    visit_min_seconds: float

    @property
    def working_hours(self) -> tuple[Period, ...]:
        return self.hours.working_hours

    @property
    def breaks(self) -> tuple[Period, ...]:
        return self.hours.breaks

    def is_staffed_time(self, moment: datetime) -> bool:
        """Inside working hours, outside breaks, on a working day (hall time)."""
        return self.hours.staffed(moment, is_workday=is_workday)

    def next_change(self, moment: datetime) -> datetime:
        """The next moment after `moment` (within two days) at which `is_staffed_time` may flip."""
        return self.hours.next_change(moment)


def schedule_for(window: WindowConfig, profile_key: str) -> WindowSchedule:
    rules = presence_rules(profile_key)
    threshold = window.absence_threshold_minutes or rules.absence_threshold_minutes
    return WindowSchedule(
        window=window.name,
        hours=StaffedHours.of(
            rules,
            working_hours=window.working_hours,
            breaks=window.breaks,
            every_day=window.working_days == "all",
        ),
        absence_threshold_seconds=threshold * 60,
        visit_min_seconds=window.visit_min_seconds or rules.visit_min_seconds,
    )


@cache
def presence_rules(profile_key: str) -> PresenceRules:
    return get_profile(profile_key).presence


def is_workday(day: date) -> bool:
    rule = official_years().get(day.year)
    if rule is None:
        _warn_uncovered(day.year)
        return day.weekday() < 5
    return rule.is_workday(day)


@cache
def _warn_uncovered(year: int) -> None:
    logger.warning("no official calendar for %d: treating Monday–Friday as working days", year)


def local_time(moment: datetime) -> time:
    return moment.astimezone(HALL_TZ).time()
