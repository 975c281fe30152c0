"""A patrol finding's capture at the edge (issue 15 item 4): the `patrol_capture` command
(common.contract.capture), handed over by `edge.commands.CommandHandler`.

The agent with the camera answers it (commands go to every agent of the hall; the others skip it):
a snapshot of the camera's newest frame (masked, edge.video.evidence, reason `patrol_finding`) and,
when live view is on and someone watched the camera in the seconds before the finding, the clip of
those seconds from the live encoder (edge.live.clips: the packets the viewers got, masks burned in).
Both go into the outbox as observations and upload with everything else, retried until central has
them; whatever is missing is logged with why. Their ids derive from the capture, so a command handed
over twice stores each once.

It runs on the thread that hands commands over: a snapshot and a mux of packets already encoded take
milliseconds, not the seconds a live answer may.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from common.contract import MAX_CLIP_BASE64, ClipIn, PatrolCaptureCommand, to_wire
from edge.outbox import Outbox, OutboxFull
from edge.video.evidence import EvidenceError, capture_id
from edge.video.pipeline import CameraPipeline

if TYPE_CHECKING:
    from edge.live.clips import Clip
    from edge.live.publisher import LivePublisher

logger = logging.getLogger(__name__)

MAX_CLIP_BYTES = MAX_CLIP_BASE64 // 4 * 3  # what fits the contract once base64-encoded


class PatrolCaptures:
    def __init__(
        self, cameras: Mapping[str, CameraPipeline], publisher: LivePublisher | None, *, outbox: Outbox
    ) -> None:
        self.cameras = dict(cameras)
        self.publisher = publisher
        self.outbox = outbox
        self.snapshots = self.clips = 0  # stored in the outbox (tests and logs read them)

    def __call__(self, command: PatrolCaptureCommand) -> bool:
        """Capture for the command; False when the camera is not this agent's."""
        pipeline = self.cameras.get(command.camera)
        if pipeline is None:
            logger.info("patrol capture %d: camera %s is not this agent's", command.id, command.camera)
            return False
        missing = [
            what
            for what, stored in (("snapshot", self._snapshot), ("clip", self._clip))
            if not stored(command, pipeline)
        ]
        logger.info(
            "patrol capture %d (%s, window %s, camera %s): %s",
            command.id,
            command.capture,
            command.window,
            command.camera,
            "snapshot and clip queued" if not missing else f"no {' and no '.join(missing)} (see above)",
        )
        return True

    def _snapshot(self, command: PatrolCaptureCommand, pipeline: CameraPipeline) -> bool:
        frame = pipeline.reader.latest()
        if frame is None:
            logger.warning(
                "patrol capture %s: no snapshot: camera %s has no fresh frame",
                command.capture,
                command.camera,
            )
            return False
        try:
            observation = pipeline.snapshot(
                frame, window=command.window, reason="patrol_finding", capture=command.capture
            )
        except EvidenceError as exc:
            logger.warning("patrol capture %s: no snapshot: %s", command.capture, exc)
            return False
        if not self._put(command, observation):
            return False
        self.snapshots += 1
        return True

    def _clip(self, command: PatrolCaptureCommand, pipeline: CameraPipeline) -> bool:
        if self.publisher is None:
            logger.warning("patrol capture %s: no clip: live view is off on this agent", command.capture)
            return False
        start = command.at - timedelta(seconds=command.clip_seconds)
        clip = self.publisher.clip_since(command.camera, start, max_bytes=MAX_CLIP_BYTES)
        if clip is None:
            logger.warning(
                "patrol capture %s: no clip: nobody watched camera %s live in the %d s before the finding"
                " (or the clip buffer is off)",
                command.capture,
                command.camera,
                command.clip_seconds,
            )
            return False
        if clip.started_at > command.at:
            logger.warning(
                "patrol capture %s: no clip: camera %s's kept frames begin at %s, after the finding",
                command.capture,
                command.camera,
                clip.started_at.isoformat(),
            )
            return False
        if not self._put(command, clip_observation(clip, command=command)):
            return False
        self.clips += 1
        return True

    def _put(self, command: PatrolCaptureCommand, observation: Mapping[str, Any]) -> bool:
        """Store it; False when the outbox refused it (a full disk, or below its reserve)."""
        try:
            stored = self.outbox.put(observation)
        except OutboxFull:
            logger.warning(
                "patrol capture %s: no %s: the outbox's disk is full", command.capture, observation["kind"]
            )
            return False
        if not stored:
            logger.info("patrol capture: %s is in the outbox already", observation["id"])
        return True


def clip_observation(clip: Clip, *, command: PatrolCaptureCommand) -> dict[str, Any]:
    """The `clip` observation of the contract (id: `capture_id(capture, window, "clip")`)."""
    observation = ClipIn(
        id=capture_id(command.capture, command.window, "clip"),
        kind="clip",
        capture=command.capture,
        at=command.at,
        started_at=clip.started_at,
        window=command.window,
        camera=command.camera,
        width=clip.width,
        height=clip.height,
        frames=clip.frames,
        duration_ms=clip.duration_ms,
        sha256=hashlib.sha256(clip.webm).hexdigest(),
        webm_base64=base64.b64encode(clip.webm).decode("ascii"),
    )
    return to_wire(observation)
