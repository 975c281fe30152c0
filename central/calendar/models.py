"""Calendar years entered by an administrator (years the official package does not cover)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime


class CalendarYear(Base):
    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    note: Mapped[str | None] = mapped_column(String(200))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarDay(Base):
    """A deviation from Monday–Friday: a weekday holiday or a make-up weekend workday (调休)."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # holiday | workday
