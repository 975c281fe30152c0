"""The published patrol plans (SC-6(1)): one per working day, never redrawn once published."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime

logger = logging.getLogger(__name__)


class PatrolPlan(Base):
    """A working day's plan as published: the draw (for auditors) and which key drew it."""

    __tablename__ = "patrol_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(String(16))  # sha256 of the draw key, first 16 hex digits
    drawn: Mapped[dict[str, Any]] = mapped_column(JSON)  # pool -> region codes, in draw order
    gaps: Mapped[list[str]] = mapped_column(JSON)  # regions a quota names that have no centre
    # When the day's compliance was checked (shortfalls raised): once, after the day ended.
    compliance_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PatrolTask(Base):
    """One patrol a supervising body owes on the day: its centre or a centre below it."""

    __tablename__ = "patrol_tasks"
    __table_args__ = (
        UniqueConstraint("day", "body_region_id", "hall_id", "reason", "seq", name="uq_patrol_tasks_slot"),
        Index("ix_patrol_tasks_day_body", "day", "body_region_id"),
        Index("ix_patrol_tasks_drawn", "body_region_id", "reason", "region_id", "day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("patrol_plans.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    body_region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))  # the patrolled centre's region
    reason: Mapped[str] = mapped_column(String(20))  # central.patrols.plan.Reason
    seq: Mapped[int] = mapped_column()
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)


class PatrolPoolMember(Base):
    """When a region joined a province's draw (a region never drawn waits from then)."""

    __tablename__ = "patrol_pool_members"
    __table_args__ = (UniqueConstraint("pool", "region_id", name="uq_patrol_pool_members"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pool: Mapped[str] = mapped_column(String(40))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    since: Mapped[date] = mapped_column(Date)


class PatrolSession(Base):
    """One inspector watching one hall (issue 15 item 4): for a task of the plan, or unplanned (a
    department's own office patrols as its work needs). Counts toward the quota only when `state` is
    complete: the browser's report of what it decoded agrees with what the edge sent, for long enough."""

    __tablename__ = "patrol_sessions"
    __table_args__ = (
        Index("ix_patrol_sessions_day_hall", "day", "hall_id"),
        Index("ix_patrol_sessions_state_ended", "state", "ended_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_tasks.id"), index=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    day: Mapped[date] = mapped_column(Date)  # the hall's working day it was done on
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_note: Mapped[str | None] = mapped_column(String(300))  # the inspector's, or why central ended it
    state: Mapped[str] = mapped_column(String(12))  # central.patrols.sessions.State
    verdict: Mapped[str | None] = mapped_column(String(1000))  # why incomplete (zh-CN), once judged
    watched_seconds: Mapped[float | None] = mapped_column(Float)  # proven viewing, once judged
    judged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PatrolFinding(Base):
    """What an inspector saw at a window during a patrol (SC-7: into the ledger), with the snapshot and
    clip the hall's agent was asked for (`capture` names them at the edge)."""

    __tablename__ = "patrol_findings"
    __table_args__ = (
        Index("ix_patrol_findings_hall_at", "hall_id", "at"),
        Index("ix_patrol_findings_status", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("patrol_sessions.id"), index=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"), index=True)
    camera: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(12))  # central.patrols.findings.Category
    note: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    capture: Mapped[str] = mapped_column(String(64), unique=True)
    clip_seconds: Mapped[int] = mapped_column(Integer)
    capture_command_id: Mapped[int | None] = mapped_column(Integer)
    # Review (central.patrols.review): pending until confirmed (raising `signal_id`) or dismissed
    # with the reason; a mistaken finding is never deleted. A confirmed 离岗 names the camera's absence.
    status: Mapped[str] = mapped_column(String(12), server_default="pending", default="pending")
    reviewed_by: Mapped[str | None] = mapped_column(String(120))  # actor label
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(String(500))
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id"))
    absence_id: Mapped[int | None] = mapped_column(ForeignKey("video_absences.id"))


class PatrolShortfall(Base):
    """A supervising body that did not meet its quota on a working day (issue 15 item 5): raised once,
    after the day ended and its patrols were judged, and shown on the compliance table."""

    __tablename__ = "patrol_shortfalls"
    __table_args__ = (UniqueConstraint("body_region_id", "day", name="uq_patrol_shortfalls_body_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    body_region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    required: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
