"""Case tables: the append-only event log and the per-case projection derived from it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.core.db import Base
from central.core.types import UTCDateTime
from central.registry.models import ServiceWindow, Staff


class Case(Base):
    """One case (办件). Every column but the identity is a projection of its events.

    Due dates ignore an open pause; while one is open, the frozen remaining days are kept
    so lights can be computed for a million cases in one SQL statement (see `lights_sql`).
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_promised_due", "status", "promised_due_date"),
        Index("ix_cases_status_legal_due", "status", "legal_due_date"),
        Index("ix_cases_hall_status", "hall_id", "status"),
        # Data supervision (central.anomalies): did a department accept any case on a staffed day?
        Index("ix_cases_department_accepted", "department_id", "accepted_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(64), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    applicant_name: Mapped[str | None] = mapped_column(String(100))
    # The kiosk's query password (query_password.py), as a salted digest; None for cases recorded
    # before central issued passwords, until one is issued.
    query_password_digest: Mapped[str | None] = mapped_column(String(64))
    # Limits are fixed when the case is created: a later catalog change does not move a case.
    promised_limit_days: Mapped[int] = mapped_column()
    legal_limit_days: Mapped[int] = mapped_column()

    status: Mapped[str] = mapped_column(String(24))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_on: Mapped[date | None] = mapped_column(Date, index=True)
    closed_on: Mapped[date | None] = mapped_column(Date, index=True)  # scores, reports: a day's closures
    extension_days: Mapped[int] = mapped_column(default=0)
    promised_due_date: Mapped[date | None] = mapped_column(Date)
    legal_due_date: Mapped[date | None] = mapped_column(Date)
    paused_since: Mapped[date | None] = mapped_column(Date)
    paused_remaining_promised: Mapped[int | None] = mapped_column()
    paused_remaining_legal: Mapped[int | None] = mapped_column()
    calendar_missing: Mapped[bool] = mapped_column(default=False, index=True)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_count: Mapped[int] = mapped_column(default=0)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="(CaseEvent.at, CaseEvent.id)", lazy="selectin"
    )


class CaseEvent(Base):
    """An immutable case event (QTH-1): corrections are new events, never edits."""

    __tablename__ = "case_events"
    __table_args__ = (
        # A period's acceptances or pauses, read from the index alone (central.anomalies' rules).
        Index("ix_case_events_type_at", "type", "at", "case_id", "window_id"),
        # A day's events across all windows (central.dualtrack): a range on `at`, not a table scan.
        Index("ix_case_events_at", "at"),
        Index(
            "ix_case_events_recorded_at", "recorded_at"
        ),  # the public feed's catch-up (central.public.jobs)
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    type: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    applicant_name: Mapped[str | None] = mapped_column(String(100))
    days: Mapped[int | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship(back_populates="events")
    window: Mapped[ServiceWindow | None] = relationship()
    staff: Mapped[Staff | None] = relationship()


class CaseEventVoid(Base):
    """An approved void of one event (SC-18): the event stays in the log, replay skips it (QTH-1)."""

    __tablename__ = "case_event_voids"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("case_events.id"), unique=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id"))
    voided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
