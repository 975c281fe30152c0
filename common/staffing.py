"""When a window must be staffed: the one rule, for the edge (which judges absences by it) and central
(which shows 在岗 / 非工作时间 by it).

A window is staffed inside its working hours, outside its breaks, on a working day (hall time,
Asia/Shanghai) — or on every day for a hall open at weekends (周末不打烊). The hours come from the
rule profile's `presence` section, overridden per window in the edge config. Which days are working
days is the caller's calendar: central's (official data plus years an administrator entered; a
missing year is never guessed), or the edge's (the official data, Monday–Friday past its end).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, model_serializer, model_validator

from common.profiles.schema import PresenceRules

logger = logging.getLogger(__name__)

HALL_TZ = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59, 999999)  # "24:00": the period runs to midnight
_PERIOD = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class Period(BaseModel):
    """A daily period "HH:MM-HH:MM" in hall time (Asia/Shanghai); parsed from that text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        match = _PERIOD.match(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is not a period like 09:00-12:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        end = END_OF_DAY if (h2, m2) == (24, 0) else time(h2, m2) if h2 < 24 else None
        if end is None:
            raise ValueError(f"{value!r}: the end is past 24:00")
        return {"start": time(h1, m1), "end": end}

    @model_validator(mode="after")
    def _verify(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"the period ends ({self.end:%H:%M}) before it starts ({self.start:%H:%M})")
        return self

    @model_serializer
    def _as_text(self) -> str:
        """Dumped as written in the file, so a dumped config reads back the same."""
        return str(self)

    def __str__(self) -> str:
        end = "24:00" if self.end == END_OF_DAY else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class StaffedHours:
    """Working hours and breaks of a window, and whether it works every day."""

    working_hours: tuple[Period, ...]
    breaks: tuple[Period, ...]
    every_day: bool = False

    @classmethod
    def of(
        cls,
        rules: PresenceRules,
        *,
        working_hours: Sequence[Period] | None = None,
        breaks: Sequence[Period] | None = None,
        every_day: bool = False,
    ) -> StaffedHours:
        """The profile's hours and breaks, or the window's own where it has them."""
        return cls(
            working_hours=tuple(working_hours or [Period.model_validate(p) for p in rules.working_hours]),
            breaks=tuple(breaks if breaks is not None else [Period.model_validate(p) for p in rules.breaks]),
            every_day=every_day,
        )

    def staffed(self, moment: datetime, *, is_workday: Callable[[date], bool]) -> bool:
        """Inside working hours, outside breaks, on a working day (hall time). `is_workday` may raise
        (central's calendar for a year nobody entered): that is the caller's to answer."""
        local = moment.astimezone(HALL_TZ)
        clock = local.time()
        if not any(p.contains(clock) for p in self.working_hours) or any(
            p.contains(clock) for p in self.breaks
        ):
            return False
        return self.every_day or is_workday(local.date())

    def next_change(self, moment: datetime) -> datetime:
        """The next moment after `moment` (within two days) at which `staffed` may flip."""
        local = moment.astimezone(HALL_TZ)
        edges = sorted({t for p in (*self.working_hours, *self.breaks) for t in (p.start, p.end)})
        for day_offset in range(3):
            day = local.date() + timedelta(days=day_offset)
            for edge in edges:
                candidate = datetime.combine(day, edge, HALL_TZ)
                if candidate > local:
                    return candidate
        return local + timedelta(days=1)
