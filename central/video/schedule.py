"""When a window must be staffed, at central: the one rule (common.staffing) with the hall profile's
`presence` hours on the central calendar, and the spans the hall page draws."""

from __future__ import annotations

import logging
from datetime import datetime

from common.profiles.schema import PresenceRules
from common.staffing import StaffedHours
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)

Span = tuple[int, int]  # minutes after midnight, end exclusive (24:00 is 1440)


def period_minutes(text: str) -> Span:
    """ "09:00-12:00" → (540, 720); the profile schema has checked the shape."""
    start, end = text.split("-")
    return _minutes(start), _minutes(end)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def working_span(rules: PresenceRules) -> Span:
    """From the earliest start to the latest end of the working hours."""
    spans = [period_minutes(p) for p in rules.working_hours]
    return min(s for s, _ in spans), max(e for _, e in spans)


def break_spans(rules: PresenceRules) -> list[Span]:
    return [period_minutes(p) for p in rules.breaks]


def staffed_at(moment: datetime, rules: PresenceRules, calendar: WorkCalendar) -> bool | None:
    """The one staffing rule (common.staffing) on the central calendar; None when it lacks the year."""
    try:
        return StaffedHours.of(rules).staffed(moment, is_workday=calendar.is_workday)
    except CalendarMissingError:
        return None
