"""Signal tables (预警纠错, SZ-10..13): one row per signal, its timeline, and the scheduler's runs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.core.db import Base
from central.core.types import UTCDateTime
from central.registry.models import Department, Hall


class Signal(Base):
    """A green warning, yellow correction signal or red signal about a case or a department.

    `dedupe_key` is set for computed signals (`light:<case id>`, `green:<case id>:<due date>`):
    its unique index is what lets several scheduler instances run at once without duplicates.
    Manual signals leave it null (NULLs never collide).
    """

    __tablename__ = "signals"
    __table_args__ = (
        Index("ix_signals_status_color", "status", "color"),
        Index("ix_signals_hall_status", "hall_id", "status"),
        Index("ix_signals_department_status", "department_id", "status"),
        Index("ix_signals_issued_on", "issued_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    color: Mapped[str] = mapped_column(String(8))  # green | yellow | red (now; a yellow may turn red)
    initial_color: Mapped[str] = mapped_column(String(8))
    origin: Mapped[str] = mapped_column(String(12))  # light | due_date | manual
    reason_code: Mapped[str] = mapped_column(String(40))  # see central.signals.reasons
    reason: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_on: Mapped[date] = mapped_column(Date)  # Shanghai date of issue, for the ledger
    issued_by: Mapped[str] = mapped_column(String(120))  # actor label
    correct_by: Mapped[date | None] = mapped_column(Date)  # yellow: last working day to correct
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    finding: Mapped[str | None] = mapped_column(String(12))  # fault | no_fault, when closed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    hall: Mapped[Hall] = relationship()
    department: Mapped[Department] = relationship()
    events: Mapped[list[SignalEvent]] = relationship(
        back_populates="signal", order_by="(SignalEvent.at, SignalEvent.id)", lazy="selectin"
    )


class SignalEvent(Base):
    """One step of a signal's lifecycle after its issue (the issue itself is the signal row)."""

    __tablename__ = "signal_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)

    signal: Mapped[Signal] = relationship(back_populates="events")


class SignalRun(Base):
    """One pass of the signal scheduler: when, as of which day, and what it did (for catch-up)."""

    __tablename__ = "signal_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    as_of: Mapped[date] = mapped_column(Date, index=True)
    instance: Mapped[str] = mapped_column(String(120))
    issued: Mapped[int] = mapped_column(default=0)
    escalated: Mapped[int] = mapped_column(default=0)
    corrected: Mapped[int] = mapped_column(default=0)
