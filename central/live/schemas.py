"""What the live view API takes and answers."""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from central.core.config import IceServerSetting
from common.contract.live import MAX_SDP_CHARS, LiveProfile

logger = logging.getLogger(__name__)


class OfferIn(BaseModel):
    """A browser's WebRTC offer to watch one camera of a hall."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
    hall: str = Field(min_length=1, max_length=40, description="The hall's code.")
    camera: str = Field(min_length=1, max_length=40, description="The camera's name at the hall's agent.")
    profile: LiveProfile = Field(description="tile: a small, slow grid tile; focus: full size.")
    sdp: str = Field(
        min_length=10, max_length=MAX_SDP_CHARS, pattern=r"^v=0\r?\n", description="The SDP offer."
    )


class OfferOut(BaseModel):
    viewer: str = Field(description="This view's id: DELETE /api/v1/live/viewers/{viewer} ends it.")
    sdp: str = Field(description="The edge agent's SDP answer.")
    ice_servers: list[IceServerSetting] = Field(
        description="The view's ICE servers, as the hall's agent got them: the static ones, and the TURN "
        "server with credentials minted for this view (valid for new relays until the username's expiry)."
    )


class IceServersOut(BaseModel):
    ice_servers: list[IceServerSetting] = Field(
        description="RTCConfiguration iceServers for the caller's next views: the static ones, and the TURN "
        "server with credentials minted for the caller."
    )
    refresh_after_seconds: int | None = Field(
        description="Ask again after this long (half the credentials' lifetime); absent: nothing expires."
    )


class WindowRef(BaseModel):
    code: str
    name: str


class LiveCameraOut(BaseModel):
    camera: str
    device: str = Field(description="The edge agent's device code.")
    online: bool
    state_label: str = Field(description="在线, or 摄像机离线 (never shown as a frozen frame).")
    reported_at: datetime | None
    windows: list[WindowRef] = Field(description="The windows this camera watches.")


class HallLiveOut(BaseModel):
    hall: str
    name: str
    grant_needed: bool = Field(description="The profile asks for an approved live_view request.")
    granted: bool = Field(description="The caller may watch now (no grant needed, or one held).")
    cameras: list[LiveCameraOut]
