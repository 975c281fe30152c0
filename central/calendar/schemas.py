"""API and file shapes for administrator-entered calendar years."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.core.types import EARLIEST_DAY, LATEST_DAY, Day


class CalendarYearIn(BaseModel):
    """One year as the State Council published it: weekday holidays and make-up workdays."""

    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=EARLIEST_DAY.year, le=LATEST_DAY.year)
    holidays: list[Day] = Field(default_factory=list, max_length=120)
    workdays: list[Day] = Field(default_factory=list, max_length=60, description="Make-up workdays (调休).")
    note: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _verify(self) -> CalendarYearIn:
        verify_dates_in_year(self)
        verify_no_overlap(self)
        verify_workdays_are_weekends(self)
        return self


def verify_dates_in_year(entry: CalendarYearIn) -> None:
    stray = sorted(d for d in [*entry.holidays, *entry.workdays] if d.year != entry.year)
    if stray:
        raise ValueError(f"dates outside {entry.year}: {', '.join(map(str, stray))}")


def verify_no_overlap(entry: CalendarYearIn) -> None:
    both = sorted(set(entry.holidays) & set(entry.workdays))
    if both:
        raise ValueError(f"dates listed as both holiday and workday: {', '.join(map(str, both))}")


def verify_workdays_are_weekends(entry: CalendarYearIn) -> None:
    weekdays = sorted(d for d in entry.workdays if d.weekday() < 5)
    if weekdays:
        raise ValueError(
            "make-up workdays must fall on a Saturday or Sunday (weekdays are workdays anyway): "
            + ", ".join(map(str, weekdays))
        )


class CalendarYearPublic(BaseModel):
    year: int
    source: str  # official | administrator
    holidays: list[date]
    workdays: list[date]
    note: str | None = None


class CalendarCheck(BaseModel):
    covered: list[int]
    official: list[int]
    administrator: list[int]
    missing: list[int]
