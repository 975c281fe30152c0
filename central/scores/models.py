"""The score tables: one row per subject and day (its month-to-date score) with its explained lines,
the pass that wrote a day, the days an approval made stale, and the months that are closed."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.core.db import Base
from central.core.types import UTCDateTime

logger = logging.getLogger(__name__)


class ScoreDay(Base):
    """A subject's score as of the end of one Shanghai day: `month_score` = the scheme's total plus every
    current line of the month so far (clamp lines included), so the lines always add up to the score.

    A recomputation that changes the figure keeps this row (`current` false, `superseded_*` say when and
    why) and writes a new one with `revision` + 1: the earlier figure stays visible (issue 17 item 3)."""

    __tablename__ = "score_days"
    __table_args__ = (
        Index("ix_score_days_day_kind", "day", "subject_kind", "current"),
        Index("ix_score_days_subject", "subject_kind", "subject_id", "day"),
        Index("ix_score_days_hall_day", "hall_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))  # 2026-11: the month the day belongs to
    subject_kind: Mapped[str] = mapped_column(String(12))  # staff | window | department | hall
    subject_id: Mapped[int] = mapped_column(Integer)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    department_id: Mapped[int | None] = mapped_column(Integer)  # staff, window, department: theirs
    profile_key: Mapped[str] = mapped_column(String(64))
    day_points: Mapped[float] = mapped_column(Float)  # the sum of the day's lines
    month_score: Mapped[float] = mapped_column(Float)  # total + the month's lines through the day
    dimensions: Mapped[dict[str, float]] = mapped_column(JSON)  # code -> clamped score
    state: Mapped[dict[str, Any]] = mapped_column(JSON)  # running totals the next day starts from
    lines_count: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())  # records as they stood at this moment
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    superseded_reason: Mapped[str | None] = mapped_column(Text)

    lines: Mapped[list[ScoreLine]] = relationship(back_populates="score_day", order_by="ScoreLine.id")


class ScoreLine(Base):
    """One deduction or bonus: the rule it applies, its points, a zh-CN sentence, and the record it comes
    from (`source_kind` + `source_id`: a signal, rating, absence, finding, follow-up, investigation or
    case; share, satisfaction and clamp lines name no single record)."""

    __tablename__ = "score_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_day_id: Mapped[int] = mapped_column(ForeignKey("score_days.id"), index=True)
    rule_code: Mapped[str] = mapped_column(String(60))
    rule_label: Mapped[str] = mapped_column(String(40))
    dimension: Mapped[str] = mapped_column(String(40))
    points: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int | None] = mapped_column(Integer)

    score_day: Mapped[ScoreDay] = relationship(back_populates="lines")


class ScoreRun(Base):
    """One computed day: the claim that keeps two instances from computing it twice (unique `day`)."""

    __tablename__ = "score_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    instance: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    subjects: Mapped[int] = mapped_column(Integer, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)


class ScoreCorrection(Base):
    """A hall's day made stale by an approved change of the past (a voided case event, an excluded
    差评): the pass recomputes the hall from that day to the last computed day of its month."""

    __tablename__ = "score_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    # One correction per approval (unique; NULLs, a recomputation asked for by hand, never collide).
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"), unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    changed: Mapped[int | None] = mapped_column(Integer)  # subject-days whose figure changed


class ScoreMonth(Base):
    """A closed month (closed on the configured working day of the next): after that its scores change
    only through an approval (a correction), and its monthly report is generated."""

    __tablename__ = "score_months"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_by: Mapped[str] = mapped_column(String(120))
