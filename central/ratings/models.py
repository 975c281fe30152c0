"""Rating tables (HCP, SC-6(3)): keypad presses as reported, ratings bound to cases, their history,
the prompts that open a rating, commands queued for edge agents, keypad health, and the follow-up
every 差评 gets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime


class RatingPrompt(Base):
    """A window asked to rate one case (一事一评): opened by a case event at the window or by the
    staff member's "request rating"; the next press within its validity binds to it."""

    __tablename__ = "rating_prompts"
    __table_args__ = (Index("ix_rating_prompts_window_opened", "window_id", "opened_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    source: Mapped[str] = mapped_column(String(16))  # case_event | staff_request
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KeypadPress(Base):
    """One key press as an edge agent reported it; `observation_id` is the edge outbox's id, so a
    re-sent batch is stored once (exactly-once delivery = at-least-once upload + this key)."""

    __tablename__ = "keypad_presses"
    __table_args__ = (
        UniqueConstraint("device_id", "observation_id"),
        Index("ix_keypad_presses_window_pressed", "window_id", "pressed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))  # the uploading edge agent
    observation_id: Mapped[str] = mapped_column(String(64))
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"))
    keypad: Mapped[str] = mapped_column(String(60))  # the keypad's device code or protocol id
    keypad_seq: Mapped[int] = mapped_column(Integer)
    key: Mapped[int] = mapped_column(Integer)  # 1..5 as pressed: 5 非常满意 … 1 非常不满意
    uptime_ms: Mapped[int] = mapped_column(BigInteger)  # the protocol sends a u32: ~49.7 days
    pressed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # bound | replaced | unbound | burst
    # The window camera's verdict at the press: a citizen at the counter (or there moments before);
    # NULL where no camera judged (none, offline, or an older edge agent).
    citizen_present: Mapped[bool | None] = mapped_column(Boolean)


class Rating(Base):
    """A satisfaction rating (5 非常满意 … 1 非常不满意). Bound ratings carry the case (one per case);
    unbound ones are window ratings. Never deleted: a mistaken or malicious 差评 is excluded through
    an approval and stays on record."""

    __tablename__ = "ratings"
    __table_args__ = (
        Index("ix_ratings_hall_rated", "hall_id", "rated_at"),
        Index("ix_ratings_department_rated", "department_id", "rated_at"),
        Index("ix_ratings_staff_rated", "staff_id", "rated_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # window_device | pad | web | app | sms | qr
    level: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), unique=True)  # 一事一评
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("rating_prompts.id"), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rated_on: Mapped[date] = mapped_column(Date, index=True)  # Shanghai day, for daily figures
    weight: Mapped[float] = mapped_column(Float, default=1.0)  # bursts of rapid presses weigh less
    burst: Mapped[bool] = mapped_column(Boolean, default=False)
    # Pressed while the window camera saw nobody at the counter: nobody but the clerk could have
    # pressed (RULES: a staff member must not rate themselves); weighs profile.ratings.unattended_weight.
    unattended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded_by_approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RatingRevision(Base):
    """An earlier level of a rating, kept when a press within the correction time replaced it."""

    __tablename__ = "rating_revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KeypadHealth(Base):
    """The latest health an edge agent reported for one keypad."""

    __tablename__ = "keypad_health"
    __table_args__ = (UniqueConstraint("device_id", "keypad"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    keypad: Mapped[str] = mapped_column(String(60))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"))
    online: Mapped[bool] = mapped_column(Boolean)
    firmware: Mapped[str | None] = mapped_column(String(40))
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bad_frames: Mapped[int] = mapped_column(Integer, default=0)
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FollowUp(Base):
    """The follow-up of one 差评 (HCP): callback (回访) with its result, rectification (整改) by the
    profile's deadline in working days, optional re-rating; overdue ones raise signals."""

    __tablename__ = "rating_followups"
    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | called_back | rectified | closed
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rectify_due: Mapped[date | None] = mapped_column(
        Date, index=True
    )  # None while the calendar lacks the year
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    callback_by: Mapped[str | None] = mapped_column(String(120))
    callback_result: Mapped[str | None] = mapped_column(Text)
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rectified_by: Mapped[str | None] = mapped_column(String(120))
    rectification: Mapped[str | None] = mapped_column(Text)
    rerating_level: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
