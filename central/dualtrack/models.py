"""Dual-track tables: one judgement per window and day, and the claim of each judged day.

A judgement keeps what it was decided on (the hours' counts, the baseline, the statistics, why it
was or was not flagged), so the page explains it without recomputing, and later days read their
baseline from earlier judgements (the unflagged ones) instead of rescanning weeks of cases.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime

logger = logging.getLogger(__name__)


class DualTrackRun(Base):
    """A judged day: its row is inserted in the same transaction as the day's judgements, so of two
    instances judging the same day one waits for the other and then skips it."""

    __tablename__ = "dualtrack_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    instance: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    windows: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    low_volume: Mapped[int] = mapped_column(Integer, default=0)
    signals: Mapped[int] = mapped_column(Integer, default=0)


class DualTrackJudgement(Base):
    """One window's day: visitors counted against cases recorded (central.dualtrack.rule)."""

    __tablename__ = "dualtrack_judgements"
    __table_args__ = (
        UniqueConstraint("window_id", "day"),
        Index("ix_dualtrack_judgements_day_outcome", "day", "outcome"),
        Index("ix_dualtrack_judgements_hall_day", "hall_id", "day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("dualtrack_runs.id"))
    day: Mapped[date] = mapped_column(Date)
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    profile_key: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(12))  # flagged | clear | low_volume
    # visits: long visits against those a case was entered during (the edge reported each visit);
    # counts: every visit against the cases (an agent that reports counts only). History: same method.
    method: Mapped[str] = mapped_column(String(8), server_default="counts", default="counts")
    visits: Mapped[int] = mapped_column(Integer)  # in the hours with a camera count
    cases: Mapped[int] = mapped_column(Integer)  # recorded in those hours
    excess: Mapped[int] = mapped_column(Integer)  # visits − cases
    expected: Mapped[float] = mapped_column(Float)  # visits × baseline share
    baseline_share: Mapped[float] = mapped_column(Float)
    baseline_spread: Mapped[float] = mapped_column(Float)
    baseline_source: Mapped[str] = mapped_column(String(12))  # history | capped | allowance
    baseline_days: Mapped[int] = mapped_column(Integer)  # judged days behind the baseline (0: none)
    z: Mapped[float | None] = mapped_column(Float)
    critical: Mapped[float | None] = mapped_column(Float)
    z_rest: Mapped[float | None] = mapped_column(Float)
    hours_counted: Mapped[int] = mapped_column(Integer)
    # [[hour, visits or null, cases], …] in hour order, hours with cases but no count included.
    hours: Mapped[list[Any]] = mapped_column(JSON)
    hours_over: Mapped[list[Any]] = mapped_column(JSON)  # the hours beyond the expected
    why: Mapped[list[Any]] = mapped_column(JSON)  # zh-CN: the conditions not met (empty: flagged)
    evidence_ids: Mapped[list[Any]] = mapped_column(JSON)  # snapshots of the window in those hours
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id"))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


__all__ = ["DualTrackJudgement", "DualTrackRun"]
