"""The encoded frames of a live stream's last seconds, kept for a patrol finding's clip (issue 15 item 4).

Each `CameraStream` feeds its ring with every packet it encodes (the packets its viewers get: the
privacy masks are already burned in). The ring always starts at a keyframe, so a clip cut from it
decodes from its first frame, and keeps at least `seconds` back from its newest frame: everything
before the last keyframe at or before that point goes. Memory is bounded twice: the ring asks its
encoder for a keyframe once its newest one is `seconds` old (so it never holds much more than twice
`seconds`, whatever the stream's keyframe interval), and over `max_bytes` it drops its oldest
keyframe's run of frames (all of it, if there is no later keyframe; it restarts at the next one).

A new encoder spell (the stream stopped and started again, its times restarting at zero) or a new
picture size starts the ring afresh: a clip is one run of one encoder.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import av

logger = logging.getLogger(__name__)

MAX_RING_BYTES = 12 * 1024 * 1024  # a minute of the focus profile at 800 kbps is 6 MB


@dataclass(frozen=True)
class RingFrame:
    at: datetime  # when the camera captured it (the reader's stamp, the agent's clock)
    packet: av.Packet[Any]  # shared with the viewers: read-only
    keyframe: bool
    width: int
    height: int

    @property
    def size(self) -> int:
        return int(self.packet.size)


class FrameRing:
    """Thread-safe: the encoder thread adds, any thread reads."""

    def __init__(self, seconds: float, *, max_bytes: int = MAX_RING_BYTES) -> None:
        if seconds <= 0:
            raise ValueError("a ring keeps some seconds")
        self.keep = timedelta(seconds=seconds)
        self.max_bytes = max_bytes
        self._frames: deque[RingFrame] = deque()
        self._bytes = 0
        self._spell = 0
        self._lock = threading.Lock()
        self.dropped_for_size = 0  # frames dropped by the byte bound (logs and tests read it)

    def begin(self, spell: int) -> None:
        """A new encoder spell: what the last one left is dropped, its late frames are ignored."""
        with self._lock:
            self._spell = spell
            self._clear()

    def add(self, frame: RingFrame, *, spell: int = 0) -> bool:
        """Keep `frame`; True when the ring wants a keyframe soon (its newest one is getting old)."""
        with self._lock:
            if spell != self._spell:
                return False
            newest = self._frames[-1] if self._frames else None
            if newest is not None and (newest.width, newest.height) != (frame.width, frame.height):
                self._clear()
            if not self._frames and not frame.keyframe:
                return True  # a ring starts at a keyframe: nothing before one would decode
            self._frames.append(frame)
            self._bytes += frame.size
            self._trim(frame.at - self.keep)
            while self._bytes > self.max_bytes:
                self._drop_first_run()
            last_key = next((f.at for f in reversed(self._frames) if f.keyframe), None)
            return last_key is None or frame.at - last_key >= self.keep

    def since(self, start: datetime) -> list[RingFrame]:
        """The frames from the last keyframe at or before `start` (or the ring's first frame, a
        keyframe) to the newest; [] when no frame is newer than `start`."""
        with self._lock:
            frames = list(self._frames)
        if not frames or frames[-1].at < start:
            return []
        first = 0
        for index, frame in enumerate(frames):
            if frame.at > start:
                break
            if frame.keyframe:
                first = index
        return frames[first:]

    def stats(self) -> tuple[int, int]:
        """Frames and bytes held."""
        with self._lock:
            return len(self._frames), self._bytes

    def _trim(self, cutoff: datetime) -> None:
        # Drop runs that end before the cutoff: keep the last keyframe at or before it.
        keep_from = 0
        for index, frame in enumerate(self._frames):
            if frame.at > cutoff:
                break
            if frame.keyframe:
                keep_from = index
        for _ in range(keep_from):
            self._bytes -= self._frames.popleft().size

    def _drop_first_run(self) -> None:
        self._bytes -= self._frames.popleft().size
        self.dropped_for_size += 1
        while self._frames and not self._frames[0].keyframe:
            self._bytes -= self._frames.popleft().size
            self.dropped_for_size += 1

    def _clear(self) -> None:
        self._frames.clear()
        self._bytes = 0
