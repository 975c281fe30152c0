"""The `live:` section of the edge config: the two live profiles and the viewer limits.

A hall's grid shows every window at once, so each tile is small and slow (`tile`); only the window an
inspector focuses on goes full size (`focus`). Each profile of a camera has at most one encoder, shared
by every viewer of that profile (edge.live.stream).
"""

from __future__ import annotations

import logging
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, IPvAnyAddress, model_validator

from edge.config_checks import Finding, raise_findings

logger = logging.getLogger(__name__)

ProfileName = Literal["tile", "focus"]
PROFILES: tuple[ProfileName, ...] = ("tile", "focus")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class LiveProfileConfig(_Section):
    width: int = Field(
        ...,
        ge=64,
        le=3840,
        multiple_of=2,
        description="Largest width sent; the picture keeps the camera's aspect ratio and is never "
        "scaled up (a smaller camera is sent at its own size).",
    )
    height: int = Field(..., ge=48, le=2160, multiple_of=2, description="Largest height sent.")
    fps: float = Field(
        ..., gt=0, le=30, description="Most frames per second encoded (the camera's own rate caps it)."
    )
    bitrate_kbps: int = Field(
        ..., ge=30, le=8000, description="Target bitrate of the VP8 encoder (constant bitrate)."
    )


def _tile() -> LiveProfileConfig:
    return LiveProfileConfig(width=320, height=180, fps=5, bitrate_kbps=150)


def _focus() -> LiveProfileConfig:
    return LiveProfileConfig(width=1280, height=720, fps=15, bitrate_kbps=800)


class LiveConfig(_Section):
    enabled: bool = Field(True, description="Publish the cameras live; false: the section is kept but off.")
    tile: LiveProfileConfig = Field(
        default_factory=_tile, description="A window in the patrol grid: small and slow."
    )
    focus: LiveProfileConfig = Field(
        default_factory=_focus, description="The window an inspector focuses on: full size."
    )
    max_viewers_per_camera: int = Field(
        8,
        ge=1,
        le=64,
        description="Most viewers of one camera at once, both profiles together (the uplink of a "
        "hall, not the encoder, is the limit: encoding is shared).",
    )
    keyframe_interval_seconds: float = Field(
        10.0,
        ge=1,
        le=300,
        description="A keyframe at least this often; new viewers and lost packets ask for one at once.",
    )
    host_addresses: list[IPvAnyAddress] | None = Field(
        None,
        max_length=16,
        description="The addresses offered as ICE host candidates; default: every interface of the box "
        "and loopback (so a browser on the box itself can watch). ICE servers come from central.",
    )
    answer_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="Longest wait for an answer to a viewer's offer."
    )
    clip_buffer_seconds: int = Field(
        10,
        ge=0,
        le=30,
        description="Seconds of encoded frames each watched stream keeps (back to a keyframe) for a "
        "patrol finding's clip; 0: no clips. Only a camera someone watches has them.",
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(verify_tile_not_larger(self))
        return self

    def profile(self, name: ProfileName) -> LiveProfileConfig:
        return self.tile if name == "tile" else self.focus


def verify_tile_not_larger(live: LiveConfig) -> list[Finding]:
    """A tile larger than the focus view is a swapped config, not a choice."""
    if live.tile.width * live.tile.height > live.focus.width * live.focus.height:
        return [Finding(("tile",), "the tile profile is larger than the focus profile")]
    return []
