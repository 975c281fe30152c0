"""One row per live view asked for: who watched which camera of which hall, and how it went. The
patrol's proof of viewing (issue 15 item 4) reads these beside the edge's own counts."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime

logger = logging.getLogger(__name__)


class LiveView(Base):
    __tablename__ = "live_views"
    __table_args__ = (Index("ix_live_views_hall_started", "hall_id", "started_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    viewer: Mapped[str] = mapped_column(String(64), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    camera: Mapped[str] = mapped_column(String(40))
    profile: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    command_id: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # asked | answered | refused:<reason> | no_answer; closed_at once central asked the edge to end it
    outcome: Mapped[str] = mapped_column(String(40))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
