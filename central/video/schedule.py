"""When a window must be staffed, at central: the hall profile's `presence` working hours and breaks
("HH:MM-HH:MM", hall time) on working days of the central calendar (pure; the edge judges absences
with the same rules, `edge.video.schedule`)."""

from __future__ import annotations

import logging
from datetime import datetime

from central.core.clock import SHANGHAI
from common.profiles.schema import PresenceRules
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
    """Inside working hours, outside breaks, on a working day; None when the calendar lacks the year."""
    local = moment.astimezone(SHANGHAI)
    try:
        if not calendar.is_workday(local.date()):
            return False
    except CalendarMissingError:
        return None
    minute = local.hour * 60 + local.minute

    def inside(spans: list[Span]) -> bool:
        return any(start <= minute < end for start, end in spans)

    return inside([period_minutes(p) for p in rules.working_hours]) and not inside(break_spans(rules))
