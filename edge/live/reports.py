"""The report of an ended live view that the agent sends central through its outbox (`live_view`).

A patrol counts toward the quota only when the browser's report of what it decoded agrees with what
the edge sent (issue 15 item 4); this is the edge's side, sent however the view ended (closed by
central, by the browser going away, or by the agent stopping)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from common.contract import LiveViewIn, to_wire

if TYPE_CHECKING:
    from edge.live.publisher import ViewerStats

logger = logging.getLogger(__name__)


def view_report(stats: ViewerStats) -> dict[str, Any]:
    """The `live_view` observation of an ended view, as the outbox stores it."""
    ended_at = stats.ended_at or stats.started_at
    observation = LiveViewIn(
        id=f"live:{stats.viewer}",
        kind="live_view",
        viewer=stats.viewer,
        camera=stats.camera,
        profile=stats.profile,
        started_at=stats.started_at,
        ended_at=max(ended_at, stats.started_at),
        first_frame_at=stats.first_frame_at,
        last_frame_at=stats.last_frame_at,
        frames_sent=stats.frames_sent,
        keyframes_sent=stats.keyframes_sent,
        packets_sent=stats.packets_sent,
        bytes_sent=stats.bytes_sent,
    )
    return to_wire(observation)
