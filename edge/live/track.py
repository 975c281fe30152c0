"""One viewer's video track: the shared encoder's packets, from a keyframe on, counted.

aiortc's sender asks its track for the next frame; a track that returns an `av.Packet` has it
packetised as it is (no encoder runs per viewer). A viewer joins a running stream mid-GOP, so its
track passes nothing until a keyframe comes, and asks the stream for one as soon as the viewer's
sender first asks (the connection is up by then: an earlier keyframe would wait in the queue and
show late). A viewer that falls behind is cut back to the next keyframe rather than buffered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from edge.live.encoder import EncodedFrame

logger = logging.getLogger(__name__)


@dataclass
class TrackCounters:
    frames_sent: int = 0  # encoded frames handed to this viewer's sender (it sends each at once)
    keyframes_sent: int = 0
    bytes_sent: int = 0  # encoded frame bytes, without RTP headers
    frames_dropped: int = 0  # cut while this viewer was behind (its queue was full)
    first_sent_at: datetime | None = None  # the clock's time of the first frame handed over
    last_sent_at: datetime | None = None


class ViewerTrack(MediaStreamTrack):
    kind = "video"

    def __init__(
        self,
        *,
        viewer: str,
        queue_frames: int,
        request_keyframe: Callable[[], None],
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self.viewer = viewer
        self._clock = clock
        self.counters = TrackCounters()
        self._request_keyframe = request_keyframe
        self._queue: asyncio.Queue[EncodedFrame | None] = asyncio.Queue(maxsize=queue_frames)
        self._sending = False  # the sender has asked for a frame: the viewer is connected
        self._need_keyframe = True
        self._on_stop: list[Callable[[ViewerTrack], None]] = []

    def on_stop(self, callback: Callable[[ViewerTrack], None]) -> None:
        self._on_stop.append(callback)

    def offer(self, frame: EncodedFrame) -> None:
        """A new encoded frame (on the publisher's loop): queue it if this viewer can use it."""
        if not self._sending or self.readyState != "live":
            return
        if self._need_keyframe and not frame.keyframe:
            return
        if self._queue.full():  # behind: what is queued is stale, start again at a keyframe
            self.counters.frames_dropped += self._drain()
            self._need_keyframe = True
            self._request_keyframe()
            if not frame.keyframe:
                return
        self._need_keyframe = False
        self._queue.put_nowait(frame)

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        if not self._sending:
            self._sending = True
            self._request_keyframe()
        frame = await self._queue.get()
        if frame is None:
            raise MediaStreamError
        self.counters.frames_sent += 1
        self.counters.last_sent_at = self._clock()
        if self.counters.first_sent_at is None:
            self.counters.first_sent_at = self.counters.last_sent_at
        self.counters.keyframes_sent += frame.keyframe
        self.counters.bytes_sent += frame.size
        return frame.packet

    def stop(self) -> None:
        if self.readyState == "ended":
            return
        super().stop()
        self._drain()
        self._queue.put_nowait(None)  # wakes a pending recv()
        for callback in self._on_stop:
            callback(self)

    def _drain(self) -> int:
        dropped = 0
        while not self._queue.empty():
            self._queue.get_nowait()
            dropped += 1
        return dropped
