"""Types shared by table models and API shapes: UTC columns, and the dates this system accepts
(those live in `common.dates`, shared with the device contract; re-exported here for central)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

from common.dates import (
    DATE_RANGE_TEXT,
    DATE_RANGE_ZH,
    EARLIEST_DAY,
    LATEST_DAY,
    AwareMoment,
    DateOutOfRange,
    Day,
    Moment,
    check_day,
    check_moment,
)

logger = logging.getLogger(__name__)

__all__ = [
    "DATE_RANGE_TEXT",
    "DATE_RANGE_ZH",
    "EARLIEST_DAY",
    "LATEST_DAY",
    "AwareMoment",
    "DateOutOfRange",
    "Day",
    "Moment",
    "UTCDateTime",
    "check_day",
    "check_moment",
]


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
