"""Data supervision tables (数据监察, SC-6(2)): the anomaly rules' hits and their runs.

A hit is keyed by what it is about (`key`: rule, subject and period), so running the rules again
updates the evidence of a hit still open and adds only what is new; a decided hit keeps its
decision. An inspector turns a hit into a signal or dismisses it with a reason.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime

logger = logging.getLogger(__name__)


class AnomalyHit(Base):
    __tablename__ = "anomaly_hits"
    __table_args__ = (
        Index("ix_anomaly_hits_hall_status", "hall_id", "status"),
        Index("ix_anomaly_hits_rule_day", "rule", "day_from"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(160), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    day_from: Mapped[date] = mapped_column(Date)
    day_to: Mapped[date] = mapped_column(Date)
    profile_key: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)  # zh-CN, one line
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))  # open | signalled | dismissed
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decision_note: Mapped[str | None] = mapped_column(Text)
    first_found_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_found_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AnomalyRun(Base):
    """One computation of the rules over a period (the job's or the CLI's): for the page and catch-up."""

    __tablename__ = "anomaly_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    instance: Mapped[str] = mapped_column(String(120))
    found: Mapped[int] = mapped_column()
    added: Mapped[int] = mapped_column()
    seconds: Mapped[float] = mapped_column()
