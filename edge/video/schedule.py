"""When a window must be staffed: its working hours and breaks on working days, in hall time.

The numbers come from the hall's rule profile (`presence`), overridden per window in the edge config.
Absence (离岗) is only judged while `is_staffed_time` holds; a seat empty over lunch or at night is
not an absence. Working days come from the official calendar (`chinesecalendar`, 调休 included); a
year the package does not cover falls back to Monday–Friday, with a warning once per year.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from common.profiles.loader import get_profile
from common.profiles.schema import PresenceRules
from common.worktime.official import official_years
from edge.video.config import Period, WindowConfig

logger = logging.getLogger(__name__)

HALL_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class WindowSchedule:
    window: str
    working_hours: tuple[Period, ...]
    breaks: tuple[Period, ...]
    absence_threshold_seconds: float
    visit_min_seconds: float
    every_day: bool = False

    def is_staffed_time(self, moment: datetime) -> bool:
        """Inside working hours, outside breaks, on a working day (hall time)."""
        local = moment.astimezone(HALL_TZ)
        clock = local.time()
        return (
            (self.every_day or is_workday(local.date()))
            and any(p.contains(clock) for p in self.working_hours)
            and not any(p.contains(clock) for p in self.breaks)
        )

    def next_change(self, moment: datetime) -> datetime:
        """The next moment after `moment` (within two days) at which `is_staffed_time` may flip."""
        local = moment.astimezone(HALL_TZ)
        edges = sorted({t for p in (*self.working_hours, *self.breaks) for t in (p.start, p.end)})
        for day_offset in range(3):
            day = local.date() + timedelta(days=day_offset)
            for edge in edges:
                candidate = datetime.combine(day, edge, HALL_TZ)
                if candidate > local:
                    return candidate
        return local + timedelta(days=1)


def schedule_for(window: WindowConfig, profile_key: str) -> WindowSchedule:
    rules = presence_rules(profile_key)
    hours = window.working_hours or [Period.model_validate(p) for p in rules.working_hours]
    breaks = window.breaks if window.breaks is not None else [Period.model_validate(p) for p in rules.breaks]
    threshold = window.absence_threshold_minutes or rules.absence_threshold_minutes
    return WindowSchedule(
        window=window.name,
        working_hours=tuple(hours),
        breaks=tuple(breaks),
        absence_threshold_seconds=threshold * 60,
        visit_min_seconds=window.visit_min_seconds or rules.visit_min_seconds,
        every_day=window.working_days == "all",
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
