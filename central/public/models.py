"""The public feed's tables: what each hall's screens show now, and the numbered changes to it.

`public_feed_halls` holds each hall's last change number: a writer takes that row's lock to number its
changes, so a hall's numbers are given, and committed, in order (a reader that has seen N has seen
everything up to N). `public_case_rows` is the masked row each case shows now, the base of snapshots
and of the diff that finds changes; `public_feed_events` keeps the changes for resuming clients.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime


class PublicFeedHall(Base):
    __tablename__ = "public_feed_halls"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The Shanghai day of the last full pass: a new day changes lights and drops yesterday's closed cases.
    full_sync_on: Mapped[date | None] = mapped_column(Date)
    full_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PublicCaseRow(Base):
    __tablename__ = "public_case_rows"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    case_no: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)  # the PublicCase as JSON, compared as text
    seq: Mapped[int] = mapped_column()


class PublicFeedEvent(Base):
    __tablename__ = "public_feed_events"
    __table_args__ = (
        UniqueConstraint("hall_id", "seq", name="uq_public_feed_events_hall_seq"),
        Index("ix_public_feed_events_at", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    seq: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(16))  # common.public_feed.FEED_EVENTS
    data: Mapped[str] = mapped_column(Text)  # JSON, one line, exactly as sent
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class PublicNotice(Base):
    """A notice the hall's screens scroll (SZ-6: laws, duties, procedures, fees); ended, never deleted."""

    __tablename__ = "public_notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
