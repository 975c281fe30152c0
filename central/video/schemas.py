"""API shapes of the video capability (separate from the table models)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from central.video.labels import AbsenceStatus, WindowState

logger = logging.getLogger(__name__)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HallVideoOut(_Out):
    code: str
    name: str
    windows: int = Field(description="Windows in your jurisdiction.")
    windows_with_camera: int
    cameras: int
    cameras_offline: int = Field(description="Reported offline, or silent for 5 minutes (SC-5(5)).")
    pending_absences: int


class WindowStateOut(_Out):
    code: str
    name: str
    department_code: str | None
    state: WindowState
    state_label: str
    since: datetime | None = Field(description="When the absence or the camera outage began.")
    camera: str | None
    camera_reported_at: datetime | None
    note: str | None


class CameraOut(_Out):
    device_code: str
    camera: str
    online: bool = Field(description="False when reported offline or silent (no report for 5 minutes).")
    silent: bool
    reported_at: datetime
    fps: float
    width: int | None
    height: int | None
    reconnects: int
    detail: str | None
    outage_since: datetime | None


class SegmentOut(_Out):
    kind: Literal["presence", "absence", "camera_offline"]
    start: datetime
    end: datetime
    open: bool


class WindowTimelineOut(_Out):
    code: str
    name: str
    segments: list[SegmentOut]
    present_seconds: float
    absent_seconds: float
    camera_offline_seconds: float


class TimelineOut(_Out):
    hall_code: str
    day: date
    until: datetime = Field(description="The end of the day, or now for today.")
    windows: list[WindowTimelineOut]


class EvidenceRef(_Out):
    id: int
    taken_at: datetime
    reason: str
    gone: bool = Field(description="Past its retention: deleted or about to be.")


class AbsenceOut(_Out):
    id: int
    hall_code: str
    window_code: str
    window_name: str
    department_code: str | None
    camera: str
    started_at: datetime
    ended_at: datetime | None
    seconds: float | None = Field(description="Length, once ended.")
    status: AbsenceStatus
    status_label: str
    origin: Literal["live", "recording"] = Field(
        description="live: seen by the camera as it happened; recording: found by analysing a recording afterwards."
    )
    reviewed_at: datetime | None
    reviewed_by: str | None
    review_note: str | None
    signal_id: int | None
    evidence: list[EvidenceRef]


class AbsencePage(_Out):
    total: int
    page: int
    page_size: int
    items: list[AbsenceOut]


class AbsenceReviewIn(_Out):
    note: str | None = Field(default=None, max_length=2000, description="Required when dismissing.")


class VisitorsBy(StrEnum):
    HOUR = "hour"
    DAY = "day"


class VisitorRow(_Out):
    window_code: str
    window_name: str
    day: date
    hour_start: datetime | None = Field(description="Null when grouped by day.")
    visits: int
    seated_seconds: float


class DualTrackRow(_Out):
    """Visits the camera counted against cases the window recorded (RULES: dual-track operation)."""

    day: date
    window_code: str
    window_name: str
    visits_counted: int | None = Field(description="Null when the camera sent no count that day.")
    cases_recorded: int = Field(description="Distinct cases with a (not voided) event at the window.")
    difference: int | None = Field(description="visits_counted - cases_recorded: above 0, off-system work?")


class EvidenceOut(_Out):
    id: int
    hall_code: str
    window_code: str
    camera: str
    reason: str
    taken_at: datetime
    width: int
    height: int
    sha256: str
    size_bytes: int
    expires_at: datetime
    absence_ids: list[int]
    origin: Literal["live", "recording"]
    media_type: str = Field(description="image/jpeg (a snapshot) or video/webm (a patrol finding's clip).")
    capture: str | None = Field(description="The patrol finding's capture it answers, if any.")
    duration_ms: int | None = Field(description="A clip's length.")
    may_view: bool = Field(description="You hold an approved grant to view the image now (SC-18).")
    image_url: str
