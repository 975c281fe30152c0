"""Video tables: what the edge agents report about cameras and windows, and what inspectors decide.

Every row an observation writes carries the uploading device and the observation id (the edge
outbox's id), with a unique constraint on the pair or on the natural key, so a re-sent batch stores
nothing twice. Evidence bytes live in their own table: the retention purge deletes them and keeps
the metadata, so a purged snapshot answers 410 Gone rather than "never existed".
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime

logger = logging.getLogger(__name__)

JPEG = "image/jpeg"
WEBM = "video/webm"


class CameraState(Base):
    """The newest health report of one camera of one edge agent (an older report never overwrites it)."""

    __tablename__ = "video_camera_states"
    __table_args__ = (UniqueConstraint("device_id", "camera"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    camera: Mapped[str] = mapped_column(String(40))
    online: Mapped[bool] = mapped_column(Boolean)
    fps: Mapped[float] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    reconnects: Mapped[int] = mapped_column(Integer)
    last_frame_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(String(300))
    observation_id: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CameraOutage(Base):
    """A stretch in which a camera was offline (SC-5(5)): opened by an offline report, closed by the
    next online one. Open outages have no end."""

    __tablename__ = "video_camera_outages"
    __table_args__ = (
        UniqueConstraint("device_id", "start_observation_id"),
        Index("ix_video_camera_outages_camera", "device_id", "camera", "started_at"),
        Index("ix_video_camera_outages_hall_started", "hall_id", "started_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    camera: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(String(300))
    start_observation_id: Mapped[str] = mapped_column(String(64))
    end_observation_id: Mapped[str | None] = mapped_column(String(64))


class WindowCamera(Base):
    """Which camera watches a window, as the latest window observation named it: a window's state
    is "camera offline" when this camera is. `staffed` and `seat_taken` are the edge's judgement at
    the camera's last health report (the edge config owns the window's hours); null until reported."""

    __tablename__ = "video_window_cameras"
    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"), unique=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    camera: Mapped[str] = mapped_column(String(40))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    staffed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    seat_taken: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    taken_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PresenceInterval(Base):
    """One interval in which the window's staff seat was taken."""

    __tablename__ = "video_presence"
    __table_args__ = (
        UniqueConstraint("device_id", "observation_id"),
        Index("ix_video_presence_window_started", "window_id", "started_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    observation_id: Mapped[str] = mapped_column(String(64))
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"))
    camera: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seconds: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # live: a camera as it happened; recording: footage analysed afterwards (never counted as live).
    origin: Mapped[str] = mapped_column(String(10), server_default="live", default="live")


class AbsenceEvent(Base):
    """离岗: a staff seat empty past the threshold in working hours (SC-6.1), one per (window, start).

    Review: pending (待核实) → confirmed (已确认, raises a signal) or dismissed (已排除, with a reason).
    `department_id` is the window's department when the absence began (jurisdiction and signals).
    """

    __tablename__ = "video_absences"
    __table_args__ = (
        UniqueConstraint("window_id", "started_at"),
        Index("ix_video_absences_hall_started", "hall_id", "started_at"),
        Index("ix_video_absences_status", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    camera: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    start_observation_id: Mapped[str | None] = mapped_column(String(64))
    end_observation_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # pending | confirmed | dismissed
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    review_note: Mapped[str | None] = mapped_column(Text)
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # live: a camera as it happened; recording: footage analysed afterwards (never counted as live).
    origin: Mapped[str] = mapped_column(String(10), server_default="live", default="live")


class AbsenceEvidence(Base):
    """An evidence item an absence names (by the evidence's observation id): either may arrive first."""

    __tablename__ = "video_absence_evidence"
    __table_args__ = (
        UniqueConstraint("absence_id", "evidence_observation_id"),
        Index("ix_video_absence_evidence_observation", "device_id", "evidence_observation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    absence_id: Mapped[int] = mapped_column(ForeignKey("video_absences.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    evidence_observation_id: Mapped[str] = mapped_column(String(64))


class VisitorCount(Base):
    """Citizen visits at one window in the part of a clock hour one run of the edge analyser watched
    (from `watched_from_second`; 0 unless the agent restarted mid-hour). An hour's count is the sum
    of its parts."""

    __tablename__ = "video_visitor_counts"
    __table_args__ = (UniqueConstraint("window_id", "hour_start", "watched_from_second"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"))
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    watched_from_second: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    camera: Mapped[str] = mapped_column(String(40))
    observation_id: Mapped[str] = mapped_column(String(64))
    visits: Mapped[int] = mapped_column(Integer)
    seated_seconds: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # live: a camera as it happened; recording: footage analysed afterwards (never counted as live).
    origin: Mapped[str] = mapped_column(String(10), server_default="live", default="live")
    # Each visit as [offset, seconds, offset, seconds, …] (flat: read for every window each day by the
    # dual-track judgement); null from an agent that predates it.
    spans: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)


class Evidence(Base):
    """A masked JPEG snapshot's or a WebM clip's metadata (SC-18: viewing it needs an approved grant).
    Kept after the retention purge, with `purged_at` set, so the id answers 410 Gone and the audit
    trail stays whole. A patrol finding's capture (`capture`, central's reference) is a snapshot and,
    where the camera was being watched live, a clip (`media_type` video/webm, `duration_ms`)."""

    __tablename__ = "video_evidence"
    __table_args__ = (
        UniqueConstraint("device_id", "observation_id"),
        Index("ix_video_evidence_window_taken", "window_id", "taken_at"),
        Index("ix_video_evidence_expires", "purged_at", "expires_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    observation_id: Mapped[str] = mapped_column(String(64))
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    camera: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(16))  # absence_start | absence_end | manual | patrol_finding
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    width: Mapped[int] = mapped_column(Integer)  # as decoded at central, not as claimed
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    origin: Mapped[str] = mapped_column(String(10), server_default="live", default="live")
    media_type: Mapped[str] = mapped_column(String(32), server_default=JPEG, default=JPEG)
    capture: Mapped[str | None] = mapped_column(String(64), index=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer)  # clips only


class EvidenceImage(Base):
    """The bytes of one evidence item (a JPEG, or a clip's WebM: `Evidence.media_type`); deleted by
    the retention purge."""

    __tablename__ = "video_evidence_images"
    evidence_id: Mapped[int] = mapped_column(ForeignKey("video_evidence.id"), primary_key=True)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)


__all__ = [
    "AbsenceEvent",
    "AbsenceEvidence",
    "CameraOutage",
    "CameraState",
    "Evidence",
    "EvidenceImage",
    "PresenceInterval",
    "VisitorCount",
    "WindowCamera",
]
