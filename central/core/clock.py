"""The one source of "now" and the Shanghai day (RULES: a day is a Shanghai calendar day)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def ensure_aware(moment: datetime) -> datetime:
    """Naive datetimes from clients are read as Shanghai wall time."""
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


def shanghai_date(moment: datetime) -> date:
    return ensure_aware(moment).astimezone(SHANGHAI).date()


def to_utc(moment: datetime) -> datetime:
    return ensure_aware(moment).astimezone(UTC)
