"""The dates this system accepts: calendar days and moments in 2000..2099, for every side's models.

Cases, calendars (the State Council publishes one year at a time), ratings and devices' clocks all
lie in this century; anything outside is a typo or a probe. The bound also keeps every time-zone
shift (±14 h, Shanghai days, a calendar year ahead) far from date.min/max, where Python raises
OverflowError. One place: central's API fields, query parameters and pages, and the device contract.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

logger = logging.getLogger(__name__)

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
