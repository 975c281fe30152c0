"""A camera's health as its reader sees it, and the `camera_health` observations that report it.

A camera offline is itself a supervision event (SC-5(5)) and must never pass for live, so health is
reported on every online/offline change (and when the camera's own resolution changes), when a
watched window's seat is taken or left or its staffed time begins or ends (so the hall page's
在岗/暂离 follows within the watchdog's tick, not a minute later), and at least every
`health_every_seconds` in between. A camera that has not delivered a frame yet is first
reported once its first opening attempt has failed (with the error in `detail`) or, at the latest,
`stall_seconds` after the reader started: a camera that never comes up is reported offline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common.contract import CameraHealthIn, WatchedWindowIn, to_wire
from edge.outbox import Outbox, OutboxFull
from edge.video.config import CameraConfig

logger = logging.getLogger(__name__)

REFUSED_RETRY_S = 10.0  # a health report the outbox refused is tried again after this long

MAX_DETAIL = 300  # CameraHealthIn.detail
MAX_FPS = 1000.0


@dataclass(frozen=True)
class CameraStatus:
    """A snapshot of one camera reader: what central gets, and counters for logs and tests."""

    camera: str
    online: bool  # a good frame arrived within stall_seconds on an open source
    fps: float  # good frames per second over the last few seconds
    frames: int  # good frames received (all connections); also the newest frame's seq
    corrupt_frames: int  # frames that arrived but were not a picture: skipped
    dropped_frames: int  # frames overwritten before anyone took them (the newest wins)
    reconnects: int  # times the source was opened again after being lost
    connect_failures: int  # opening attempts that failed since the last successful one
    last_frame_at: datetime | None
    source_width: int | None  # what the camera delivers (frames are scaled to the config size)
    source_height: int | None
    detail: str | None  # why offline; when online, a resolution change seen on this connection


def health_observation(
    status: CameraStatus, *, obs_id: str, at: datetime, windows: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The camera_health observation of the edge ↔ central contract (CameraHealthIn)."""
    detail = status.detail
    if detail is not None and len(detail) > MAX_DETAIL:
        detail = detail[: MAX_DETAIL - 1] + "…"
    return to_wire(
        CameraHealthIn(
            id=obs_id,
            kind="camera_health",
            at=at,
            camera=status.camera,
            online=status.online,
            fps=round(min(max(status.fps, 0.0), MAX_FPS), 2),
            width=status.source_width,
            height=status.source_height,
            reconnects=status.reconnects,
            last_frame_at=status.last_frame_at,
            detail=detail,
            windows=[WatchedWindowIn.model_validate(w) for w in windows],
        )
    )


class CameraHealthSchedule:
    """Decides when a health report is due (monotonic seconds), and makes unique report ids."""

    def __init__(self, config: CameraConfig, started: float) -> None:
        self.config = config
        self._reported: _State | None = None
        self._next_due = started + config.stall_seconds
        self._last_id_ms = 0
        self._held_until = 0.0

    def due(self, status: CameraStatus, now: float, windows: Sequence[Mapping[str, Any]] = ()) -> bool:
        if now < self._held_until:
            return False
        if self._reported is None:
            return status.online or status.connect_failures > 0 or now >= self._next_due
        return _state(status, windows) != self._reported or now >= self._next_due

    def reported(self, status: CameraStatus, now: float, windows: Sequence[Mapping[str, Any]] = ()) -> None:
        if self._reported is None or self._reported[0] != status.online:
            if status.online:
                logger.info("camera %s online (%s)", status.camera, _size(status))
            else:
                logger.warning("camera %s offline: %s", status.camera, status.detail or "no frame yet")
        self._reported = _state(status, windows)
        self._next_due = now + self.config.health_every_seconds

    def refused(self, now: float) -> None:
        """The outbox refused the report (a full disk): try again a while later, not on every tick."""
        self._held_until = now + min(REFUSED_RETRY_S, self.config.health_every_seconds)

    def next_id(self, wall_ms: int) -> str:
        """f"{camera}:cam:{ms}", strictly increasing even within one millisecond (≤ 58 chars)."""
        self._last_id_ms = max(wall_ms, self._last_id_ms + 1)
        return f"{self.config.name}:cam:{self._last_id_ms}"


def report_if_due(
    *,
    schedule: CameraHealthSchedule,
    outbox: Outbox,
    status: CameraStatus,
    now: float,
    at: datetime,
    windows: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any] | None:
    """Put a camera_health observation into the outbox if one is due; returns it (None if not due, or
    refused: a full disk)."""
    if not schedule.due(status, now, windows):
        return None
    obs_id = schedule.next_id(int(at.timestamp() * 1000))
    observation = health_observation(status, obs_id=obs_id, at=at, windows=windows)
    try:
        outbox.put(observation)
    except OutboxFull:  # logged and counted by the outbox
        schedule.refused(now)
        return None
    schedule.reported(status, now, windows)
    return observation


# What a change of makes a report due: online, the source's size, and each window's staffed time and seat.
_State = tuple[bool, int | None, int | None, tuple[tuple[Any, ...], ...]]


def _state(status: CameraStatus, windows: Sequence[Mapping[str, Any]]) -> _State:
    seats = tuple((w.get("code"), w.get("staffed"), w.get("seat_taken")) for w in windows)
    return status.online, status.source_width, status.source_height, seats


def _size(status: CameraStatus) -> str:
    if status.source_width is None:
        return "size unknown"
    return f"{status.source_width}x{status.source_height}"
