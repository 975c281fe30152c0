"""A clip of a live stream's last seconds as WebM, muxed from the VP8 packets the stream already
encoded (edge.live.ring): no second encode, so the clip is exactly what a viewer was sent, privacy
masks burned in. The packets keep their own times (RTP's 90 kHz clock, from the encoder's start),
moved so the clip starts at zero; the WebM muxer writes them in milliseconds.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import av

from edge.live.encoder import TIME_BASE
from edge.live.ring import RingFrame
from edge.live.stream import CameraStream

logger = logging.getLogger(__name__)

CONTAINER_OVERHEAD = 64 * 1024  # the EBML header, cues and per-frame block headers stay below this


class ClipError(ValueError):
    """No clip can be made of the frames (none, or the first is not a keyframe)."""


@dataclass(frozen=True)
class Clip:
    webm: bytes
    width: int
    height: int
    frames: int
    started_at: datetime  # the first frame's capture moment (a keyframe)
    ended_at: datetime  # the last frame's
    duration_ms: int
    profile: str  # the live profile it was cut from


def mux_webm(frames: Sequence[RingFrame], *, max_bytes: int | None = None) -> tuple[bytes, list[RingFrame]]:
    """The frames as WebM and the frames it holds: with `max_bytes`, the oldest keyframe runs are
    left out until it fits (the newest seconds matter most: they lead up to the finding)."""
    kept = list(frames)
    if not kept or not kept[0].keyframe:
        raise ClipError("a clip starts at a keyframe")
    while True:
        if max_bytes is not None:
            kept = _within(kept, max_bytes - CONTAINER_OVERHEAD)
        data = _mux(kept)
        if max_bytes is None or len(data) <= max_bytes:
            return data, kept
        shorter = _without_first_run(kept)
        if not shorter:
            raise ClipError(f"one keyframe run alone is over {max_bytes} bytes as WebM")
        kept = shorter


def make_clip(frames: Sequence[RingFrame], *, profile: str, max_bytes: int | None = None) -> Clip:
    data, kept = mux_webm(frames, max_bytes=max_bytes)
    first, last = kept[0], kept[-1]
    pts = [f.packet.pts or 0 for f in kept]
    return Clip(
        webm=data,
        width=first.width,
        height=first.height,
        frames=len(kept),
        started_at=first.at,
        ended_at=last.at,
        duration_ms=round((pts[-1] - pts[0]) * TIME_BASE * 1000),
        profile=profile,
    )


def clip_of(streams: Sequence[CameraStream], start: datetime, max_bytes: int | None) -> Clip | None:
    """The clip from `start` of the first stream (by preference) that runs and kept frames since,
    else of the first that kept any (it stopped meanwhile); None when none kept any."""
    found = [(s, frames) for s in streams if (frames := s.buffered(start))]
    if not found:
        return None
    stream, frames = next(((s, f) for s, f in found if s.running), found[0])
    try:
        return make_clip(frames, profile=stream.profile_name, max_bytes=max_bytes)
    except ClipError as exc:
        logger.warning("live %s/%s: no clip: %s", stream.camera, stream.profile_name, exc)
        return None


def _mux(frames: Sequence[RingFrame]) -> bytes:
    first = frames[0]
    start = first.packet.pts or 0
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="webm") as container:
        # The stream only describes the packets (VP8 at the frames' size): nothing is encoded.
        stream = container.add_stream("libvpx")
        stream.width, stream.height = first.width, first.height
        stream.pix_fmt = "yuv420p"
        stream.time_base = TIME_BASE
        last = -1
        for frame in frames:
            # A copy: the ring's packets are shared with the viewers' tracks and must not change.
            packet = av.Packet(bytes(frame.packet))
            pts = max((frame.packet.pts or 0) - start, last + 1)  # strictly increasing for the muxer
            packet.pts = packet.dts = last = pts
            packet.time_base = TIME_BASE
            packet.is_keyframe = frame.keyframe
            packet.stream = stream
            container.mux(packet)
    return buffer.getvalue()


def _within(frames: list[RingFrame], budget: int) -> list[RingFrame]:
    while sum(f.size for f in frames) > budget:
        shorter = _without_first_run(frames)
        if not shorter:
            return frames
        frames = shorter
    return frames


def _without_first_run(frames: list[RingFrame]) -> list[RingFrame]:
    """From the second keyframe on; [] when there is none."""
    for index in range(1, len(frames)):
        if frames[index].keyframe:
            return frames[index:]
    return []
