"""The published patrol plans (SC-6(1)): one per working day, never redrawn once published."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint
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
