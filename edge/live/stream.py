"""One camera in one live profile: a thread that encodes the camera's newest frames once, and the
viewers' tracks it fans the packets out to.

The thread takes frames from the camera's reader (edge.video.capture: the agent's one connection
to the camera) as they arrive, at most the profile's frame rate, masks and scales them
(edge.live.encoder) and encodes them; the packets are handed to the publisher's asyncio loop, which
queues them on every viewer's track. The thread runs while the stream has viewers: started by the
first, stopped when the last one leaves. A camera with no fresh frame gives the reader nothing, so
nothing is encoded or sent: a viewer never gets a frozen picture, and the page shows the camera
offline from `online`.

With `clip_buffer_seconds`, the stream also keeps its last seconds of packets (edge.live.ring) for a
patrol finding's clip (edge.live.clips); they outlive the spell until the next one starts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from edge.live.config import LiveProfileConfig, ProfileName
from edge.live.encoder import EncodedFrame, Vp8Encoder, live_picture
from edge.live.ring import FrameRing, RingFrame
from edge.live.track import ViewerTrack
from edge.video.capture import CameraReader
from edge.video.config import Polygon

logger = logging.getLogger(__name__)

WAIT_FRAME_S = 0.5  # a stop is seen within this while the camera is silent
EARLY_SHARE = 0.25  # a frame this share of an interval before its time is still taken (camera jitter)
MIN_KEYFRAME_GAP_S = 0.25  # requests (a new viewer, a PLI from each viewer) within this share a keyframe
LOG_EVERY_S = 60.0


@dataclass(frozen=True)
class StreamStats:
    camera: str
    profile: ProfileName
    running: bool
    viewers: int
    encoders_started: int  # encoder threads started over the stream's life (one per busy spell)
    frames_encoded: int
    keyframes: int
    keyframe_requests: int
    encode_errors: int


class CameraStream:
    def __init__(
        self,
        *,
        camera: str,
        reader: CameraReader,
        masks: Sequence[Polygon],
        profile_name: ProfileName,
        profile: LiveProfileConfig,
        keyframe_interval_seconds: float,
        loop: asyncio.AbstractEventLoop,
        clip_buffer_seconds: float = 0,
    ) -> None:
        self.camera, self.reader, self.masks = camera, reader, tuple(masks)
        self.profile_name, self.profile = profile_name, profile
        self._keyframe_interval = keyframe_interval_seconds
        self._loop = loop
        self._tracks: set[ViewerTrack] = set()  # touched on the loop only
        self._lock = threading.Lock()  # guards the counters and the keyframe flag (loop and encoder thread)
        self._keyframe_wanted = False
        self._thread: threading.Thread | None = None  # the running spell's
        self._spells: list[tuple[threading.Thread, threading.Event]] = []  # running or still ending
        self._encoders_started = 0
        self._frames = self._keyframes = self._requests = self._errors = 0
        self._last_error_log = 0.0
        self.ring = FrameRing(clip_buffer_seconds) if clip_buffer_seconds > 0 else None

    @property
    def online(self) -> bool:
        return self.reader.status().online

    @property
    def viewers(self) -> int:
        return len(self._tracks)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def buffered(self, since: datetime) -> list[RingFrame]:
        """Any thread: the kept frames from the last keyframe at or before `since` ([] if none
        newer than `since`, or no ring)."""
        return self.ring.since(since) if self.ring is not None else []

    def subscribe(self, track: ViewerTrack) -> None:
        """Add a viewer's track (on the loop); the first one starts the encoder."""
        self._tracks.add(track)
        track.on_stop(self.unsubscribe)
        if self._thread is None:
            self._start()

    def unsubscribe(self, track: ViewerTrack) -> None:
        """Remove a track (on the loop); the last one stops the encoder (without waiting for it)."""
        self._tracks.discard(track)
        if not self._tracks:
            self.stop(join=False)

    def request_keyframe(self) -> None:
        """Any thread: the next encoded frame is a keyframe (soon: requests are coalesced)."""
        with self._lock:
            self._keyframe_wanted = True
            self._requests += 1

    def stop(self, *, join: bool) -> None:
        """Stop encoding; `join`: also wait for every encoder thread of this stream to end."""
        self._thread = None
        for _, stop in self._spells:
            stop.set()
        if join:
            for thread, _ in self._spells:
                thread.join(WAIT_FRAME_S + 2)
        self._spells = [(t, e) for t, e in self._spells if t.is_alive()]

    def stats(self) -> StreamStats:
        with self._lock:
            return StreamStats(
                camera=self.camera,
                profile=self.profile_name,
                running=self._thread is not None,
                viewers=len(self._tracks),
                encoders_started=self._encoders_started,
                frames_encoded=self._frames,
                keyframes=self._keyframes,
                keyframe_requests=self._requests,
                encode_errors=self._errors,
            )

    # --- the encoder thread ------------------------------------------------------------------

    def _start(self) -> None:
        stop = threading.Event()
        encoder = Vp8Encoder(self.profile, keyframe_interval_seconds=self._keyframe_interval)
        # Each busy spell has its own thread, encoder and stop flag: a stopping thread that has not
        # yet seen its flag never shares an encoder with the next spell's.
        with self._lock:
            self._encoders_started += 1
            spell = self._encoders_started
        if self.ring is not None:
            self.ring.begin(spell)  # a clip is one spell's: its packet times restart at zero
        self._thread = threading.Thread(
            target=self._run,
            args=(encoder, stop, spell),
            name=f"live-{self.camera}-{self.profile_name}",
            daemon=True,
        )
        self._spells = [*((t, e) for t, e in self._spells if t.is_alive()), (self._thread, stop)]
        logger.info("live %s/%s: encoder started", self.camera, self.profile_name)
        self._thread.start()

    def _run(self, encoder: Vp8Encoder, stop: threading.Event, spell: int) -> None:
        interval = 1.0 / self.profile.fps
        box = (self.profile.width, self.profile.height)
        began = time.monotonic()
        seq, due, last_keyframe = 0, began, -MIN_KEYFRAME_GAP_S
        try:
            while not stop.is_set():
                # Each frame is encoded as it arrives, never held until a tick: holding the newest
                # frame until the profile's next frame time added up to a camera interval to its
                # latency (p50 15 ms, up to 40 ms, for a 25 fps camera; bench.patrols).
                frame = self.reader.wait_newer(seq, WAIT_FRAME_S)
                if frame is None or stop.is_set():
                    continue  # offline or stopping: nothing is sent, not the last picture again
                seq, now = frame.seq, time.monotonic()
                if now < due - interval * EARLY_SHARE:
                    continue  # a faster camera: this frame is too early for the profile's rate
                # A fixed grid of frame times, not `now + interval`: a camera at the profile's rate
                # would otherwise lose a frame each time its jitter adds up to one interval.
                due = max(due + interval, now - interval)
                keyframe = self._take_keyframe_request(now - last_keyframe >= MIN_KEYFRAME_GAP_S)
                try:
                    picture = live_picture(frame.full, self.masks, box)
                    encoded = encoder.encode(picture, seconds=now - began, keyframe=keyframe)
                except Exception as exc:  # a frame the encoder refuses must not end the stream
                    self._count_error(exc)
                    continue
                if encoded is None:
                    continue
                if encoded.keyframe:
                    last_keyframe = now
                if self.ring is not None:
                    ring_frame = RingFrame(
                        frame.at, encoded.packet, encoded.keyframe, picture.shape[1], picture.shape[0]
                    )
                    if self.ring.add(ring_frame, spell=spell):
                        with self._lock:  # not counted as a viewer's request
                            self._keyframe_wanted = True
                with self._lock:
                    self._frames += 1
                    self._keyframes += encoded.keyframe
                try:
                    self._loop.call_soon_threadsafe(self._fan_out, encoded)
                except RuntimeError:  # the loop is closed: the publisher is gone
                    break
        finally:
            encoder.close()
            logger.info("live %s/%s: encoder stopped", self.camera, self.profile_name)

    def _take_keyframe_request(self, allowed: bool) -> bool:
        with self._lock:
            if self._keyframe_wanted and allowed:
                self._keyframe_wanted = False
                return True
            return False

    def _fan_out(self, frame: EncodedFrame) -> None:
        for track in list(self._tracks):
            track.offer(frame)

    def _count_error(self, exc: Exception) -> None:
        with self._lock:
            self._errors += 1
            errors = self._errors
        now = time.monotonic()
        if now - self._last_error_log >= LOG_EVERY_S:
            self._last_error_log = now
            logger.error(
                "live %s/%s: a frame could not be encoded (%d so far): %r",
                self.camera,
                self.profile_name,
                errors,
                exc,
            )
