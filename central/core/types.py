"""Types shared by table models and API shapes: UTC columns, and the dates this system accepts."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime
from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

# The dates this system works with. Cases, calendars (the State Council publishes one year at a time),
# ratings and devices' clocks all lie in this century; anything outside is a typo or a probe. The
# bound also keeps every time-zone shift (±14 h, Shanghai days, a calendar year ahead) far from
# date.min/max, where Python raises OverflowError. One place: API fields, query parameters, pages.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
DATE_RANGE_TEXT = f"dates must lie between {EARLIEST_DAY} and {LATEST_DAY}"
DATE_RANGE_ZH = f"日期应在 {EARLIEST_DAY} 到 {LATEST_DAY} 之间"


class DateOutOfRange(ValueError):
    """A date or moment outside EARLIEST_DAY..LATEST_DAY; the message names the range."""


def check_day(value: date) -> date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise DateOutOfRange(f"{DATE_RANGE_TEXT}, not {value.isoformat()}")
    return value


def check_moment(value: datetime) -> datetime:
    """The date as written (in its own offset, or naive) is checked: before any conversion."""
    if not EARLIEST_DAY <= value.date() <= LATEST_DAY:
        raise DateOutOfRange(f"{DATE_RANGE_TEXT}, not {value.isoformat()}")
    return value


Day = Annotated[date, AfterValidator(check_day)]
"""A calendar date inside the system's range (422 naming the range otherwise)."""

Moment = Annotated[datetime, AfterValidator(check_moment)]
"""A moment inside the system's range; naive ones are read as Shanghai wall time by the callers."""

AwareMoment = Annotated[AwareDatetime, AfterValidator(check_moment)]
"""A moment with an offset (devices' clocks), inside the system's range."""


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC timestamps on every backend (SQLite has no time zones: store naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
