"""Sampling supervision tables (抽样监察, SC-6(4)): one row per draw, one per case it drew.

A draw records everything an auditor needs to recompute it: the month and scope, the moment it was
drawn (the population is the cases as recorded by then), the seed, the rates it drew at, the
population's size and digest, and the reviewers the cases were dealt to.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.core.db import Base
from central.core.types import UTCDateTime

logger = logging.getLogger(__name__)


class SampleDraw(Base):
    """One draw of a month's closed cases in one scope. One per month and scope: drawing again until
    a sample suits someone is impossible by construction."""

    __tablename__ = "sample_draws"
    __table_args__ = (UniqueConstraint("month", "scope_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, Shanghai
    scope_kind: Mapped[str] = mapped_column(String(12))  # deployment | region | hall | department
    scope_code: Mapped[str] = mapped_column(String(80))  # as resolve_scope_code reads it back
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    drawn_by: Mapped[str] = mapped_column(String(120))  # actor label
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    seed: Mapped[str] = mapped_column(String(64))  # 32 random bytes, hex
    algorithm: Mapped[str] = mapped_column(String(24))
    profile_key: Mapped[str] = mapped_column(String(64))
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)  # the profile's sampling section as drawn
    population: Mapped[int] = mapped_column()
    population_digest: Mapped[str] = mapped_column(String(64))
    reviewers: Mapped[list[str]] = mapped_column(JSON)  # usernames, in the order cases were dealt
    sample_size: Mapped[int] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)

    cases: Mapped[list[SampleCase]] = relationship(
        back_populates="draw", order_by="SampleCase.position", lazy="selectin"
    )


class SampleCase(Base):
    """A case the draw chose, the reviewer it was dealt to, and the review: 合规 or 不合规 with the
    rule cited (a signal reason); 不合规 raises a signal."""

    __tablename__ = "sample_cases"
    __table_args__ = (
        UniqueConstraint("draw_id", "case_id"),
        Index("ix_sample_cases_reviewer_finding", "reviewer_id", "finding"),
        Index("ix_sample_cases_department", "department_id", "draw_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("sample_draws.id"))
    position: Mapped[int] = mapped_column()
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    case_no: Mapped[str] = mapped_column(String(64))
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    kinds: Mapped[str] = mapped_column(String(80))  # SZ-9 kinds, comma-separated ('' for none)
    stratum: Mapped[str] = mapped_column(String(16))  # the rate class it was drawn in
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    finding: Mapped[str | None] = mapped_column(String(16))  # compliant | noncompliant
    reason_code: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id"))

    draw: Mapped[SampleDraw] = relationship(back_populates="cases")
