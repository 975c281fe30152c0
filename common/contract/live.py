"""Live view signalling, central ↔ a hall's edge agent (issue 15 item 3).

Central relays a browser's WebRTC offer as a `live_offer` command; the agent that publishes the camera
answers with a `LiveReply` (the SDP answer, or why not) sent up its channel as a `Reply` (or posted
to `POST /api/v1/device/replies` while the channel is down). `live_close` ends a view at the edge.

ICE servers (STUN/TURN for halls behind NAT) come from central's settings, in the offer: an agent
never falls back on a public default (tests and the demo send none).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from common.dates import AwareMoment

logger = logging.getLogger(__name__)

MAX_SDP_CHARS = 20_000  # a browser's offer with a few candidates is 3-6 kB
MAX_ANSWER_SDP_CHARS = 5_000  # the answer rides in a reply of at most MAX_REPLY_BYTES (6000)
VIEWER_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
LiveProfile = Literal["tile", "focus"]


class _Tolerant(BaseModel):
    # The edge reads these: a field a newer central adds is ignored rather than stopping live view.
    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)


class IceServer(_Tolerant):
    """One STUN or TURN server, as `RTCIceServer` (and the browser's RTCConfiguration) take it."""

    urls: list[str] = Field(min_length=1, max_length=4)
    username: str | None = Field(default=None, max_length=200)
    credential: str | None = Field(default=None, max_length=200)


class LiveOfferPayload(_Tolerant):
    """A viewer's offer to watch `camera` in `profile`; the agent that publishes it answers."""

    KIND: ClassVar[str] = "live_offer"

    viewer: str = Field(pattern=VIEWER_PATTERN)
    camera: str = Field(min_length=1, max_length=40)
    profile: LiveProfile
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)
    ice_servers: list[IceServer] = Field(default_factory=list, max_length=8)


class LiveOfferCommand(LiveOfferPayload):
    id: int = Field(ge=1)
    kind: Literal["live_offer"]
    expires_at: AwareMoment


class LiveClosePayload(_Tolerant):
    """End a view (the viewer left, or central ended it)."""

    KIND: ClassVar[str] = "live_close"

    viewer: str = Field(pattern=VIEWER_PATTERN)


class LiveCloseCommand(LiveClosePayload):
    id: int = Field(ge=1)
    kind: Literal["live_close"]
    expires_at: AwareMoment


class LiveRefusal(StrEnum):
    """Why an agent gave no view; central maps each to an HTTP status."""

    LIVE_OFF = "live_off"  # the agent's config has no live section, or it is disabled
    CAMERA_UNKNOWN = "camera_unknown"
    CAMERA_OFFLINE = "camera_offline"  # no fresh frames: the page shows 摄像机离线, never a frozen frame
    TOO_MANY_VIEWERS = "too_many_viewers"
    BAD_OFFER = "bad_offer"  # an offer the agent cannot answer (no VP8, no video section)
    FAILED = "failed"  # anything else at the edge


class LiveReply(BaseModel):
    """The body of the agent's reply to a `live_offer`: an answer, or a refusal with its reason."""

    model_config = ConfigDict(extra="forbid")

    viewer: str = Field(pattern=VIEWER_PATTERN)
    sdp: str | None = Field(default=None, min_length=1, max_length=MAX_ANSWER_SDP_CHARS)
    refused: LiveRefusal | None = None
    detail: str | None = Field(default=None, max_length=300)
