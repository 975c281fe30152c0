"""Investigations (SC-9, SZ-13): a problem passed down to a lower bureau, reported within a limit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.core.db import Base
from central.core.types import UTCDateTime
from central.signals.models import Signal


class Investigation(Base):
    """Assigned by a higher bureau to a jurisdiction (scope) that must report by `due_date`."""

    __tablename__ = "investigations"
    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id"), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assignee_scope_kind: Mapped[str] = mapped_column(String(12))
    assignee_scope_id: Mapped[int] = mapped_column()
    assignee_scope_code: Mapped[str] = mapped_column(String(60))
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("halls.id"), index=True)  # what it is about
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    assigned_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date, index=True)  # extensions move it
    extension_days: Mapped[int] = mapped_column(default=0)
    extensions: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(12), index=True)  # open | reported
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_by: Mapped[str | None] = mapped_column(String(120))
    report: Mapped[str | None] = mapped_column(Text)
    finding: Mapped[str | None] = mapped_column(String(12))  # fault | no_fault

    signal: Mapped[Signal | None] = relationship()
