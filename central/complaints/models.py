"""Complaint tables (SZ-14/15): one row per complaint, its attachments, and the form questions used.

A complaint is personal data (its text, the complainant's name and phone): the row holds it in
clear for the inspectors who handle it; every other reader gets it masked (`central.complaints.views`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.cases.models import Case
from central.core.db import Base
from central.core.types import UTCDateTime
from central.investigations.models import Investigation
from central.registry.models import Department, Hall, ServiceWindow, Staff


class Complaint(Base):
    """received → accepted (→ handled, perhaps through an investigation) → closed with an outcome;
    or received → refused with reasons. `decide_by` is the last working day to decide (SZ-14)."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_status_decide_by", "status", "decide_by"),
        Index("ix_complaints_hall_status", "hall_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # 投诉编号, TS + date + 6 digits
    query_password_digest: Mapped[str] = mapped_column(String(64))  # central.cases.query_password
    channel: Mapped[str] = mapped_column(String(12))  # online | kiosk
    about: Mapped[str] = mapped_column(String(12))  # case | window | staff | department | hall
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    anonymous: Mapped[bool] = mapped_column()
    complainant_name: Mapped[str | None] = mapped_column(String(60))
    complainant_phone: Mapped[str | None] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_on: Mapped[date] = mapped_column(Date, index=True)  # Shanghai date of receipt
    decide_by: Mapped[date | None] = mapped_column(Date)  # None while the calendar lacks the year
    status: Mapped[str] = mapped_column(String(12))  # received | accepted | refused | closed
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decision_note: Mapped[str | None] = mapped_column(Text)  # the reasons for refusing, or a note
    investigation_id: Mapped[int | None] = mapped_column(ForeignKey("investigations.id"), unique=True)
    findings: Mapped[str | None] = mapped_column(Text)
    reply: Mapped[str | None] = mapped_column(Text)  # 答复: what the complainant is told
    upheld: Mapped[bool | None] = mapped_column()  # 投诉属实 (SZ-17(6) scores it)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_by: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    hall: Mapped[Hall] = relationship()
    department: Mapped[Department | None] = relationship()
    window: Mapped[ServiceWindow | None] = relationship()
    staff: Mapped[Staff | None] = relationship()
    case: Mapped[Case | None] = relationship()
    investigation: Mapped[Investigation | None] = relationship()
    attachments: Mapped[list[ComplaintAttachment]] = relationship(
        back_populates="complaint", order_by="ComplaintAttachment.id", lazy="selectin"
    )


class ComplaintAttachment(Base):
    """An image (JPEG, PNG) or PDF, its kind found from its bytes, not from its name or declared type."""

    __tablename__ = "complaint_attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    filename: Mapped[str] = mapped_column(String(120))  # as sent, cleaned; never used as a path
    media_type: Mapped[str] = mapped_column(String(32))  # image/jpeg | image/png | application/pdf
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")


class ComplaintChallengeUse(Base):
    """A form question answered once: its nonce, so the same signed answer cannot send a second
    complaint. Rows past the question's life are pruned when new ones are written."""

    __tablename__ = "complaint_challenge_uses"
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
