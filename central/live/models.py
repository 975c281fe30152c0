"""One row per live view asked for: who watched which camera of which hall, and how it went. The
patrol's proof of viewing (issue 15 item 4) sets the browser's counts beside the edge's own."""

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
    patrol_session_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_sessions.id"), index=True)
    # What the viewer's browser says it received and decoded (its WebRTC statistics; never decreasing).
    browser_frames_decoded: Mapped[int | None] = mapped_column(Integer)
    browser_packets_received: Mapped[int | None] = mapped_column(Integer)
    browser_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the edge says it sent (its `live_view` report when the view ended), in the edge's clock.
    edge_first_frame_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    edge_last_frame_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    edge_frames_sent: Mapped[int | None] = mapped_column(Integer)
    edge_packets_sent: Mapped[int | None] = mapped_column(Integer)
    edge_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
