"""A generated monthly report: its figures (what the page shows) and its PDF, kept so that a download
gives the report as it was generated; a regenerated one replaces it (same month and scope)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime

logger = logging.getLogger(__name__)


class MonthlyReport(Base):
    __tablename__ = "monthly_reports"
    __table_args__ = (UniqueConstraint("month", "scope_kind", "scope_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # 2026-11
    scope_kind: Mapped[str] = mapped_column(String(12))  # deployment | region | hall
    scope_code: Mapped[str] = mapped_column(String(40))  # * | region code (510100) | hall code
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    generated_by: Mapped[str] = mapped_column(String(120))  # actor label, or the scheduler
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
