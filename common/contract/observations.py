"""Observations, edge → central (keypads.md): what a hall's agent and devices report, one model a kind.

An observation is a discriminated union on `kind`. A new kind adds its model to `Observation` below
(central registers a handler for it with `central.devices.service.register`). The `In` suffix is
central's view: these are the bodies central receives, so every model forbids unknown fields and
bounds every value; the edge builds what it sends through the same models (`to_wire`), so a
malformed observation fails at the edge, not at central.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from common.contract.base import ORIGIN_FIELD_DESCRIPTION, CameraCode, CaptureRef, Origin, WindowCode
from common.contract.base import Strict as _Strict
from common.contract.capture import ClipIn
from common.contract.live import VIEWER_PATTERN, LiveProfile
from common.dates import AwareMoment

logger = logging.getLogger(__name__)


MAX_VISIT_SECONDS = 8 * 3600  # a visit longer than a working day is a camera fault, not a citizen


class KeypadPressIn(_Strict):
    """A KEY frame the edge agent stored (id = f"{keypad}:{seq}:{uptime_ms}")."""

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["keypad_press"]
    at: AwareMoment = Field(description="Edge clock when the KEY frame arrived.")
    window: str = Field(min_length=1, max_length=40)
    keypad: str = Field(min_length=1, max_length=60)
    seq: int = Field(ge=0, le=65535)
    key: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    uptime_ms: int = Field(ge=0, le=2**32 - 1)  # a u32 on the wire
    citizen_present: bool | None = Field(
        default=None,
        description="Whether the window camera saw a citizen at the counter at the press (or moments "
        "before); null or absent: no camera verdict (no camera, camera offline, older edge agent).",
    )


class KeypadHealthIn(_Strict):
    id: str = Field(min_length=1, max_length=64)
    kind: Literal["keypad_health"]
    at: AwareMoment
    window: str = Field(min_length=1, max_length=40)
    keypad: str = Field(min_length=1, max_length=60)
    online: bool
    firmware: str | None = Field(default=None, max_length=40)
    last_heartbeat_at: AwareMoment | None = None
    bad_frames: int = Field(ge=0, le=2**31 - 1)
    reconnects: int = Field(ge=0, le=2**31 - 1)


# An evidence JPEG travels base64-encoded in the batch: 1.5 MB of text is about 1.1 MB of JPEG.
MAX_EVIDENCE_BASE64 = 1_500_000


class WatchedWindowIn(_Strict):
    """A window a camera watches, as the edge judges it at the report's time."""

    code: WindowCode
    staffed: bool = Field(description="Inside the window's working hours now (the edge config's hours).")
    seat_taken: bool | None = Field(
        default=None, description="The staff seat is taken now, after smoothing (null: not judged yet)."
    )
    taken_since: AwareMoment | None = Field(
        default=None, description="While taken: since when (the presence interval still open)."
    )


class CameraHealthIn(_Strict):
    """A camera's state (id = f"{camera}:cam:{ms}"): sent on every change and periodically."""

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["camera_health"]
    at: AwareMoment
    camera: CameraCode
    online: bool = Field(
        description="Frames are arriving; an offline camera is never shown as live (SC-5(5))."
    )
    fps: float = Field(ge=0, le=1000, description="Frames per second received over the last interval.")
    width: int | None = Field(default=None, ge=1, le=16384)
    height: int | None = Field(default=None, ge=1, le=16384)
    reconnects: int = Field(ge=0, le=2**31 - 1)
    last_frame_at: AwareMoment | None = None
    detail: str | None = Field(
        default=None, max_length=300, description="Why offline, e.g. 'stream stalled'."
    )
    windows: list[WatchedWindowIn] = Field(
        default_factory=list,
        max_length=100,
        description="The windows this camera watches (the edge config) and their state now, so central "
        "knows from the first report which windows an outage blinds, and which are in working hours.",
    )


class PresenceIn(_Strict):
    """One interval in which the window's staff seat was taken (id = f"{window}:pres:{start_ms}")."""

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["presence"]
    window: WindowCode
    camera: CameraCode
    start: AwareMoment
    end: AwareMoment
    origin: Origin = Field("live", description=ORIGIN_FIELD_DESCRIPTION)

    @model_validator(mode="after")
    def _verify(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class AbsenceIn(_Strict):
    """离岗: the staff seat empty past the threshold in working hours.

    Sent twice: phase "start" once the threshold is passed (ended_at null), phase "end" when the seat
    is taken again or working hours end (id = f"{window}:abs:{start_ms}:{phase}"). Both carry
    `started_at`, the moment the seat became empty, which identifies the absence.
    """

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["absence"]
    phase: Literal["start", "end"]
    window: WindowCode
    camera: CameraCode
    started_at: AwareMoment
    ended_at: AwareMoment | None = None
    evidence: list[str] = Field(default_factory=list, max_length=8, description="Ids of evidence items.")
    origin: Origin = Field("live", description=ORIGIN_FIELD_DESCRIPTION)

    @model_validator(mode="after")
    def _verify(self) -> Self:
        if (self.phase == "end") != (self.ended_at is not None):
            raise ValueError("ended_at is required for phase 'end' and not allowed for phase 'start'")
        if self.ended_at is not None and self.ended_at <= self.started_at:
            raise ValueError("ended_at must be after started_at")
        return self


class VisitSpanIn(_Strict):
    """One sit of the hour: when it began and how long the customer seat was taken."""

    offset: int = Field(ge=0, le=3599, description="Seconds after the hour's start that the visit began.")
    seconds: int = Field(
        ge=1, le=MAX_VISIT_SECONDS, description="How long the seat was taken (still going on: so far)."
    )


class VisitorCountIn(_Strict):
    """Citizen visits at one window in the part of a clock hour the camera watched in one run
    (id = f"{window}:vis:{hour_epoch_s}:{watched_from_second}").

    An edge agent restarted mid-hour reports the hour in two parts, each final; central adds the parts.
    """

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["visitor_count"]
    window: WindowCode
    camera: CameraCode
    hour_start: AwareMoment = Field(description="The start of the hour (minutes and seconds zero).")
    visits: int = Field(ge=0, le=10_000)
    seated_seconds: float = Field(ge=0, le=3600, description="Seconds the customer seat was taken.")
    watched_from_second: int = Field(
        default=0, ge=0, le=3599, description="Seconds into the hour when this part's watching began."
    )
    origin: Origin = Field("live", description=ORIGIN_FIELD_DESCRIPTION)
    spans: list[VisitSpanIn] | None = Field(
        default=None,
        max_length=3600,
        description="Every sit that began in this part of the hour, in start order — the `visits` and the "
        "sits too short to be one: central matches them with the cases entered during them "
        "(dual-track). Absent: an older agent, judged on the counts alone.",
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        verify_on_the_hour(self)
        verify_spans(self)
        return self


def verify_on_the_hour(count: VisitorCountIn) -> None:
    if (count.hour_start.minute, count.hour_start.second, count.hour_start.microsecond) != (0, 0, 0):
        raise ValueError("hour_start must be on the hour")


def verify_spans(count: VisitorCountIn) -> None:
    if count.spans is None:
        return
    if len(count.spans) < count.visits:
        raise ValueError(f"spans lists {len(count.spans)} sits, fewer than the {count.visits} visits")
    offsets = [span.offset for span in count.spans]
    if offsets != sorted(offsets):
        raise ValueError("spans must be in start order")
    if offsets and offsets[0] < count.watched_from_second:
        raise ValueError("a span begins before this part of the hour was watched")


EvidenceReason = Literal["absence_start", "absence_end", "manual", "patrol_finding"]


class EvidenceIn(_Strict):
    """A masked JPEG snapshot taken on an event (id = f"{window}:ev:{ms}")."""

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["evidence"]
    at: AwareMoment
    window: WindowCode
    camera: CameraCode
    reason: EvidenceReason
    width: int = Field(ge=1, le=16384)
    height: int = Field(ge=1, le=16384)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Of the JPEG bytes, checked at central.")
    jpeg_base64: str = Field(min_length=4, max_length=MAX_EVIDENCE_BASE64)
    origin: Origin = Field("live", description=ORIGIN_FIELD_DESCRIPTION)
    capture: CaptureRef | None = Field(
        default=None, description="patrol_finding: central's reference of the capture it asked for."
    )


class LiveViewIn(_Strict):
    """What the edge sent one live viewer, reported when the view ended (id = f"live:{viewer}").

    A patrol's proof of viewing (issue 15 item 4) sets the browser's own report of what it decoded
    against these counts: a browser cannot claim frames the edge never sent."""

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["live_view"]
    viewer: str = Field(pattern=VIEWER_PATTERN)
    camera: CameraCode
    profile: LiveProfile
    started_at: AwareMoment = Field(description="When the edge answered the view.")
    ended_at: AwareMoment
    first_frame_at: AwareMoment | None = Field(default=None, description="The first frame sent; null: none.")
    last_frame_at: AwareMoment | None = None
    frames_sent: int = Field(ge=0, le=2**31 - 1)
    keyframes_sent: int = Field(ge=0, le=2**31 - 1)
    packets_sent: int = Field(ge=0, le=2**31 - 1, description="RTP packets, as the browser counts them.")
    bytes_sent: int = Field(ge=0, le=2**53)

    @model_validator(mode="after")
    def _verify(self) -> Self:
        if self.ended_at < self.started_at:
            raise ValueError("ended_at must not be before started_at")
        if (self.first_frame_at is None) != (self.last_frame_at is None):
            raise ValueError("first_frame_at and last_frame_at are both set or both null")
        if self.first_frame_at is not None and self.last_frame_at is not None:
            if self.last_frame_at < self.first_frame_at:
                raise ValueError("last_frame_at must not be before first_frame_at")
            if self.frames_sent == 0:
                raise ValueError("frame times without frames_sent")
        elif self.frames_sent:
            raise ValueError("frames_sent without first_frame_at and last_frame_at")
        if self.keyframes_sent > self.frames_sent:
            raise ValueError("keyframes_sent cannot exceed frames_sent")
        return self


Observation = Annotated[
    KeypadPressIn
    | KeypadHealthIn
    | CameraHealthIn
    | PresenceIn
    | AbsenceIn
    | VisitorCountIn
    | EvidenceIn
    | ClipIn
    | LiveViewIn,
    Field(discriminator="kind"),
]


class ObservationBatch(_Strict):
    observations: list[Observation] = Field(
        min_length=1, description="1..max_batch_events items (413 beyond); all or nothing."
    )


def to_wire(observation: Observation) -> dict[str, Any]:
    """The JSON object the edge stores in its outbox and uploads: only the fields its producer set,
    so an optional field left unset (a press without a camera verdict, a live `origin`) stays out of
    the body and an agent keeps talking to a central that predates the field."""
    return observation.model_dump(mode="json", exclude_unset=True)
