"""A patrol finding's capture (issue 15 item 4): central asks the hall's agent for a snapshot and a clip
of the seconds before an inspector's finding, and the agent sends both up as observations.

* `patrol_capture` (central → edge): the command, naming central's reference (`capture`), the window
  and its camera, the finding's moment and how many seconds of clip to send.
* The snapshot is an ordinary `evidence` observation (reason `patrol_finding`, carrying `capture`).
* `clip` (edge → central): the seconds before the finding from the camera's live encoder, as WebM
  (VP8, muxed without re-encoding; privacy masks were burned in before encoding). The bytes travel
  base64-encoded with their SHA-256, checked at central like a snapshot's.
"""

from __future__ import annotations

import logging
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.contract.base import (
    ORIGIN_FIELD_DESCRIPTION,
    CameraCode,
    CaptureRef,
    Origin,
    Strict,
    WindowCode,
)
from common.dates import AwareMoment

logger = logging.getLogger(__name__)

MAX_CLIP_SECONDS = 30
# A clip travels base64-encoded in one batch: 6 MB of text is 4.5 MB of WebM, half a minute of the
# focus profile (800 kbps) with room for its keyframes. Central's max_body_bytes (20 MiB) admits it.
MAX_CLIP_BASE64 = 6_000_000
MAX_CLIP_FRAMES = 10_000
MAX_CLIP_DURATION_MS = 120_000  # the clip reaches back to a keyframe: longer than the seconds asked


class _Tolerant(BaseModel):
    # The edge reads the command: a field a newer central adds is ignored rather than stopping captures.
    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)


class PatrolCapturePayload(_Tolerant):
    """Capture `window` through `camera` for a finding at `at`: a snapshot now and the clip of the
    `clip_seconds` before. Sent to every agent of the hall; the one with the camera does it."""

    KIND: ClassVar[str] = "patrol_capture"

    capture: CaptureRef
    camera: CameraCode
    window: WindowCode
    at: AwareMoment
    clip_seconds: int = Field(ge=1, le=MAX_CLIP_SECONDS)


class PatrolCaptureCommand(PatrolCapturePayload):
    id: int = Field(ge=1)
    kind: Literal["patrol_capture"]
    expires_at: AwareMoment


class ClipIn(Strict):
    """The clip of a patrol capture: WebM (VP8) from the camera's live encoder, masks burned in."""

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["clip"]
    capture: CaptureRef
    at: AwareMoment = Field(description="The finding's moment (the command's `at`).")
    started_at: AwareMoment = Field(description="The first frame's moment (a keyframe).")
    window: WindowCode
    camera: CameraCode
    width: int = Field(ge=1, le=16384)
    height: int = Field(ge=1, le=16384)
    frames: int = Field(ge=1, le=MAX_CLIP_FRAMES)
    duration_ms: int = Field(ge=0, le=MAX_CLIP_DURATION_MS)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Of the WebM bytes, checked at central.")
    webm_base64: str = Field(min_length=4, max_length=MAX_CLIP_BASE64)
    origin: Origin = Field("live", description=ORIGIN_FIELD_DESCRIPTION)

    @model_validator(mode="after")
    def _verify(self) -> Self:
        if self.started_at > self.at:
            raise ValueError("started_at must not be after at: the clip shows the seconds before the finding")
        return self
