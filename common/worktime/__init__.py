"""Working-day arithmetic (LAW art. 82): pure functions over a calendar, no database."""

from common.worktime.calendar import CalendarMissingError, WorkCalendar, YearRule

__all__ = ["CalendarMissingError", "WorkCalendar", "YearRule"]
