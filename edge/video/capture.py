"""One reader per camera: always hands analysis the newest frame, and never shows a dead camera live.

A thread reads the source as fast as it delivers and keeps only the newest frame in a one-slot
buffer: analysis runs at a few frames per second, and a queue would hand it ever older pictures
(the backlog Frigate warns about). A frame overwritten before anyone took it counts as dropped.
Frames are scaled to the configured width x height when taken, not when read, so the frames
nobody looks at cost no resizing.

Faults never end the reader (issue #4, "Bad input and faults"): a corrupt frame is counted and
skipped; no good frame for `stall_seconds` (a stall), repeated failed reads or a read error close
the source, the camera goes offline, and it is opened again with capped exponential backoff
(jittered, so a hall's cameras do not all knock at once after a switch restarts). Offline means
offline (SC-5(5)): `latest()` never returns a frame older than `stall_seconds`.

A second, light thread (the watchdog) reports camera health to the outbox (edge.video.camera_health)
even while a read blocks, and releases a source whose read has blocked well past a stall.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cv2
import numpy as np

from edge.clock import utc_now
from edge.outbox import Outbox
from edge.video.camera_health import CameraHealthSchedule, CameraStatus, report_if_due
from edge.video.config import CameraConfig
from edge.video.sources import (
    CameraOpenError,
    CorruptFrame,
    FrameSource,
    SourceEnded,
    frame_problem,
    open_source,
)

logger = logging.getLogger(__name__)

FIRST_RETRY_S = 0.25
STABLE_SESSION_S = 5.0  # a connection that lasted this long resets the backoff
MAX_FAILED_READS = 3  # reads in a row that gave nothing: the source is gone
FPS_WINDOW_S = 5.0
STOP_JOIN_S = 2.0


@dataclass(frozen=True)
class Frame:
    seq: int  # 1, 2, … over the reader's life; a gap means frames were dropped
    at: datetime  # UTC, when captured
    image: np.ndarray  # BGR uint8, config width x height; read-only (shared): copy before drawing
    # The frame as the camera delivered it (evidence is made at the camera's resolution, issue #19);
    # None where the caller has only the analysis frame. Read-only and shared, like `image`.
    source: np.ndarray | None = None

    @property
    def full(self) -> np.ndarray:
        """The largest picture of this moment: the source frame, else the analysis frame."""
        return self.source if self.source is not None else self.image


class _NewestFrame:
    """The one-slot buffer: the newest frame, scaled lazily for whoever takes it first."""

    def __init__(self, width: int, height: int) -> None:
        self._size = (width, height)
        self._changed = threading.Condition()
        self._seq = 0
        self._raw: tuple[int, datetime, float, np.ndarray] | None = None  # seq, at, monotonic, image
        self._scaled: Frame | None = None
        self._taken_seq = 0
        self.dropped = 0

    def put(self, image: np.ndarray, at: datetime, mono: float) -> int:
        with self._changed:
            if self._raw is not None and self._raw[0] > self._taken_seq:
                self.dropped += 1
            self._seq += 1
            self._raw, self._scaled = (self._seq, at, mono, image), None
            self._changed.notify_all()
            return self._seq

    def clear(self) -> None:
        """The source is gone: its last frame must not be handed out as live."""
        with self._changed:
            self._raw = self._scaled = None
            self._changed.notify_all()

    def take(self, *, after_seq: int, fresh_since: float) -> Frame | None:
        with self._changed:
            raw = self._raw
            if raw is None or raw[0] <= after_seq or raw[2] < fresh_since:
                return None
            self._taken_seq = max(self._taken_seq, raw[0])
            if self._scaled is not None and self._scaled.seq == raw[0]:
                return self._scaled
        image = scale_frame(raw[3], self._size).view()  # outside the lock: the reader reads on meanwhile
        image.flags.writeable = False  # every consumer gets the same array (a view: the source's stays)
        source = raw[3].view()
        source.flags.writeable = False
        frame = Frame(seq=raw[0], at=raw[1], image=image, source=source)
        with self._changed:
            if self._raw is not None and self._raw[0] == frame.seq:
                self._scaled = frame
        return frame

    @property
    def seq(self) -> int:
        return self._seq

    def wait_past(self, seen_seq: int, timeout: float) -> None:
        """Wait until a frame newer than `seen_seq` has been put (or the timeout)."""
        with self._changed:
            self._changed.wait_for(lambda: self._seq > seen_seq, timeout)


class CameraReader:
    """Reads one camera; `latest()` / `wait_newer()` for analysis, `status()` for health."""

    def __init__(
        self,
        config: CameraConfig,
        *,
        outbox: Outbox | None,
        clock: Callable[[], datetime] = utc_now,
        open_source: Callable[[CameraConfig], FrameSource] = open_source,
        window_states: Callable[[datetime], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.config = config
        self.outbox = outbox
        # The windows this camera watches and their state, named in every health report.
        self._window_states = window_states or (lambda _at: [])
        self._clock = clock
        self._open_source = open_source
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._slot = _NewestFrame(config.width, config.height)
        self._lock = threading.Lock()  # guards what follows, read by status()
        self._source: FrameSource | None = None
        self._ever_opened = False
        self._reconnects = 0
        self._connect_failures = 0
        self._frames = 0
        self._corrupt = 0
        self._recent: deque[float] = deque()  # monotonic times of good frames in the last FPS_WINDOW_S
        self._session_start: float | None = None
        self._session_frame_at: float | None = None  # monotonic, the newest good frame of this session
        self._last_frame_at: datetime | None = None
        self._source_size: tuple[int, int] | None = None
        self._size_note: str | None = None
        self._offline_detail: str | None = None
        self._reading_since: float | None = None
        self._health = CameraHealthSchedule(config, time.monotonic())

    @property
    def name(self) -> str:
        return self.config.name

    # --- public ------------------------------------------------------------------------------

    def start(self) -> None:
        for target, role in ((self._run, "read"), (self._watch, "watch")):
            thread = threading.Thread(target=target, name=f"camera-{role}-{self.name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = STOP_JOIN_S) -> None:
        """Stop promptly: a read blocked in OpenCV is left to time out, then releases its capture."""
        self._stop.set()
        with self._lock:
            source = self._source
        if source is not None:
            source.release()  # never blocks; frees the capture now or when the read returns
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            logger.info("camera %s: stopped; a blocked read will release the source", self.name)

    def latest(self) -> Frame | None:
        """The newest frame, or None if there is none fresher than stall_seconds (offline)."""
        return self._slot.take(after_seq=0, fresh_since=self._fresh_since())

    def wait_newer(self, after_seq: int, timeout: float) -> Frame | None:
        """The newest frame with seq > after_seq, waiting up to `timeout` seconds for one."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self._slot.seq  # read before taking: a frame put in between ends the wait at once
            frame = self._slot.take(after_seq=after_seq, fresh_since=self._fresh_since())
            left = deadline - time.monotonic()
            if frame is not None or left <= 0 or self._stop.is_set():
                return frame
            self._slot.wait_past(seen, min(left, 0.5))

    def status(self) -> CameraStatus:
        now = time.monotonic()
        with self._lock:
            online = (
                self._source is not None
                and self._session_frame_at is not None
                and now - self._session_frame_at < self.config.stall_seconds
            )
            width, height = self._source_size or (None, None)
            return CameraStatus(
                camera=self.name,
                online=online,
                fps=self._fps(now) if online else 0.0,
                frames=self._frames,
                corrupt_frames=self._corrupt,
                dropped_frames=self._slot.dropped,
                reconnects=self._reconnects,
                connect_failures=self._connect_failures,
                last_frame_at=self._last_frame_at,
                source_width=width,
                source_height=height,
                detail=self._size_note if online else self._why_offline(),
            )

    # --- the reading thread ------------------------------------------------------------------

    def _run(self) -> None:
        logger.info("camera %s: reading %s", self.name, self.config.source.type)
        wait = min(FIRST_RETRY_S, self.config.reconnect_max_seconds)
        while not self._stop.is_set():
            source = self._connect()
            if source is not None:
                opened = time.monotonic()
                if self._session(source):
                    break  # the source ended for good (a file without loop)
                if time.monotonic() - opened >= STABLE_SESSION_S:
                    wait = min(FIRST_RETRY_S, self.config.reconnect_max_seconds)
            if self._stop.wait(wait * random.uniform(0.75, 1.0)):
                break
            wait = min(wait * 2, self.config.reconnect_max_seconds)
        logger.info("camera %s: reader stopped", self.name)

    def _connect(self) -> FrameSource | None:
        try:
            source = self._open_source(self.config)
        except Exception as exc:  # CameraOpenError, or anything a backend throws: never crash
            with self._lock:
                self._connect_failures += 1
                failures = self._connect_failures
                self._offline_detail = f"cannot open: {exc}"
            if not isinstance(exc, CameraOpenError):
                logger.exception("camera %s: opening failed unexpectedly", self.name)
            log = logger.warning if failures == 1 else logger.debug
            log("camera %s: cannot open (attempt %d): %s", self.name, failures, exc)
            return None
        with self._lock:
            if self._ever_opened:
                self._reconnects += 1
            self._ever_opened = True
            self._connect_failures = 0
            self._source = source
            self._session_start, self._session_frame_at = time.monotonic(), None
        if self._stop.is_set():
            source.release()
        return source

    def _session(self, source: FrameSource) -> bool:
        """Read an open source until it fails, stalls or the reader stops. True if it ended."""
        failures, last_good = 0, time.monotonic()  # a new connection gets stall_seconds to deliver
        corrupt_at_start = self._corrupt
        detail, ended = "reader stopped", False
        try:
            while not self._stop.is_set():
                image, corrupt = self._read_once(source)
                now = time.monotonic()
                if image is not None:
                    self._deliver(image, now)
                    failures, last_good = 0, now
                    continue
                failures += 0 if corrupt else 1
                if failures >= MAX_FAILED_READS:
                    detail = "no frame from the source (reads fail)"
                    break
                if now - last_good >= self.config.stall_seconds:
                    detail = _stalled(self.config, self._corrupt - corrupt_at_start)
                    break
                if failures:
                    self._stop.wait(min(0.05 * failures, 0.5))
        except SourceEnded as exc:
            detail, ended = str(exc), True
        except Exception as exc:  # a backend error: close, reopen; never crash the agent
            logger.warning("camera %s: read error: %s", self.name, exc)
            detail = f"read error: {exc}"
        finally:
            self._end_session(source, detail)
        return ended

    def _read_once(self, source: FrameSource) -> tuple[np.ndarray | None, bool]:
        """(a good frame or None, whether a corrupt frame arrived)."""
        with self._lock:
            self._reading_since = time.monotonic()
        try:
            image = source.read()
        except CorruptFrame as exc:
            return self._count_corrupt(str(exc))
        finally:
            with self._lock:
                self._reading_since = None
        if image is None:
            return None, False
        problem = frame_problem(image)
        if problem is not None:
            return self._count_corrupt(problem)
        return image, False

    def _count_corrupt(self, why: str) -> tuple[None, bool]:
        with self._lock:
            self._corrupt += 1
            count = self._corrupt
        log = logger.warning if count == 1 or count % 100 == 0 else logger.debug
        log("camera %s: corrupt frame skipped (%d so far): %s", self.name, count, why)
        return None, True

    def _deliver(self, image: np.ndarray, now: float) -> None:
        at = self._clock()
        size = (int(image.shape[1]), int(image.shape[0]))
        with self._lock:
            if self._source_size is not None and size != self._source_size:
                old = self._source_size
                self._size_note = f"resolution changed from {old[0]}x{old[1]} to {size[0]}x{size[1]}"
                logger.warning("camera %s: %s", self.name, self._size_note)
            self._source_size = size
            self._frames += 1
            self._recent.append(now)
            while self._recent[0] < now - FPS_WINDOW_S:
                self._recent.popleft()
            self._session_frame_at, self._last_frame_at = now, at
            self._offline_detail = None
        self._slot.put(image, at, now)

    def _end_session(self, source: FrameSource, detail: str) -> None:
        source.release()
        self._slot.clear()
        with self._lock:
            self._source = None
            self._session_frame_at = None
            self._offline_detail = detail
            self._size_note = None
        if not self._stop.is_set():
            logger.warning("camera %s: closed %s: %s", self.name, source.description, detail)

    # --- the watchdog thread -----------------------------------------------------------------

    def _watch(self) -> None:
        tick = min(max(self.config.stall_seconds / 4, 0.05), 0.5)
        while not self._stop.wait(tick):
            now = time.monotonic()
            with self._lock:
                since, source = self._reading_since, self._source
            if since is not None and source is not None and now - since > 2 * self.config.stall_seconds + 1:
                logger.warning("camera %s: a read blocked past the stall: releasing", self.name)
                source.release()
            if self.outbox is not None:
                try:
                    at = self._clock()
                    report_if_due(
                        schedule=self._health,
                        outbox=self.outbox,
                        status=self.status(),
                        now=now,
                        at=at,
                        windows=self._window_states(at),
                    )
                except Exception:  # the outbox cannot write now: the next tick tries again
                    logger.exception("camera %s: health report failed", self.name)

    # --- helpers -----------------------------------------------------------------------------

    def _why_offline(self) -> str:
        """Called with the lock held."""
        if self._source is None:
            return self._offline_detail or "not opened yet"
        if self._session_frame_at is None:
            return "opened, waiting for the first frame"
        return _stalled(self.config)

    def _fresh_since(self) -> float:
        return time.monotonic() - self.config.stall_seconds

    def _fps(self, now: float) -> float:
        """Good frames per second over the last FPS_WINDOW_S (or since the connection opened)."""
        if self._session_start is None:
            return 0.0
        since = max(now - FPS_WINDOW_S, self._session_start)
        span = now - since
        count = sum(1 for t in self._recent if t >= since)
        return count / span if span >= 0.2 else 0.0


def _stalled(config: CameraConfig, corrupt: int = 0) -> str:
    extra = f" ({corrupt} corrupt frames skipped)" if corrupt else ""
    return f"stream stalled: no good frame for {config.stall_seconds:g} s{extra}"


def scale_frame(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` at `size` (width, height); the image itself when it has that size already."""
    if (image.shape[1], image.shape[0]) == size:
        return image
    shrink = image.shape[1] > size[0] or image.shape[0] > size[1]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
