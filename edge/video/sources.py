"""Open a camera's configured `source` with OpenCV behind one small protocol, `FrameSource`.

The capture reader (edge.video.capture) only ever calls `read()` and `release()`, so a stream, a USB
device, a video file and a generated scene all go through the same resilient reading code.

What OpenCV 4.14's FFmpeg backend does, and why the code looks the way it does:
- It reads HTTP MJPEG (`multipart/x-mixed-replace`) and RTSP. The open and read timeouts
  (CAP_PROP_OPEN_TIMEOUT_MSEC / CAP_PROP_READ_TIMEOUT_MSEC) must be given to the constructor; a read
  that times out returns no frame, and every later read on that capture fails at once: a stalled
  stream needs a fresh capture, which is what the reader's watchdog does.
- Decoding, it silently rescales every frame to the size the stream had when it was opened and
  conceals corrupt JPEGs (half-grey frames, no error). So an MJPEG stream is read as raw packets
  (CAP_PROP_FORMAT = -1) and decoded here with `cv2.imdecode`: a corrupt part raises `CorruptFrame`
  and a camera that changes resolution shows its real size. Other codecs (H.264 over RTSP) are
  decoded by FFmpeg, whose rescaling hides a resolution change.
- Releasing a capture while another thread is inside `read()` frees FFmpeg's context under it (a
  crash), so `release()` from another thread only asks, and the reading thread releases the capture
  as soon as its read returns (within the read timeout).
- RTSP goes over TCP (OPENCV_FFMPEG_CAPTURE_OPTIONS, unless set by the operator): UDP loses packets
  on busy hall networks and the frames smear.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import cv2
import numpy as np

from edge.video.config import CameraConfig, DeviceSource, FileSource, GeneratedSource, StreamSource

logger = logging.getLogger(__name__)

MAX_SIDE = 16384  # the most a camera_health observation accepts; anything larger is not a frame
FALLBACK_FPS = 25.0  # a video file that does not say its frame rate
MAX_FILE_FPS = 240.0
MAX_LAG_FRAMES = 5  # a paced file that fell this far behind skips ahead instead of bursting
JPEG_END = b"\xff\xd9"
_CREDENTIALS = re.compile(r"^([a-z]+://)[^/@]*@", re.IGNORECASE)


class CameraOpenError(Exception):
    """The source cannot be opened (unreachable URL, missing file, no such device): a health event."""


class CorruptFrame(Exception):
    """A frame arrived but is not a picture (undecodable or truncated): counted and skipped."""


class SourceEnded(Exception):
    """The source has definitively nothing more to give (a video file without `loop`)."""


class FrameSource(Protocol):
    """What the capture reader reads from.

    `read()` returns one BGR uint8 HxWx3 frame, a new array the caller keeps (never a buffer the
    source writes again), or None when there is no frame now (timed out, ended, failed); it may raise
    CorruptFrame or SourceEnded. `release()` may be called from any thread,
    never blocks, and makes the source return None from then on.
    """

    @property
    def description(self) -> str: ...

    def read(self) -> np.ndarray | None: ...

    def release(self) -> None: ...


def open_source(config: CameraConfig) -> FrameSource:
    """Open `config.source`; CameraOpenError (with a message fit for camera health) if it cannot."""
    source = config.source
    if isinstance(source, StreamSource):
        return StreamFrameSource(source.url, stall_seconds=config.stall_seconds)
    if isinstance(source, DeviceSource):
        return DeviceFrameSource(source.index, width=config.width, height=config.height)
    if isinstance(source, FileSource):
        return FileFrameSource(source.path, loop=source.loop)
    if isinstance(source, GeneratedSource):
        return _open_generated(source, width=config.width, height=config.height)
    raise CameraOpenError(f"unknown camera source {type(source).__name__}")


def redact_url(url: str) -> str:
    """The URL without its user:password (they stay on the box, never in logs or health)."""
    return _CREDENTIALS.sub(r"\1***@", url)


def frame_problem(image: object) -> str | None:
    """Why `image` is not a usable BGR frame, or None. Device data is untrusted."""
    if not isinstance(image, np.ndarray):
        return f"not an image ({type(image).__name__})"
    if image.dtype != np.uint8:
        return f"pixel type {image.dtype}, expected uint8"
    if image.ndim != 3 or image.shape[2] != 3:
        return f"shape {image.shape}, expected height x width x 3"
    height, width = image.shape[:2]
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        return f"size {width}x{height} out of range"
    return None


def stream_timeouts(stall_seconds: float) -> tuple[float, float]:
    """(open, read) timeouts in seconds: a read waits as long as a stall takes to be declared."""
    return min(max(2 * stall_seconds, 1.0), 30.0), stall_seconds


class _CaptureSource:
    """A cv2.VideoCapture that another thread may release safely (see the module docstring)."""

    def __init__(self, capture: cv2.VideoCapture, description: str) -> None:
        self._capture: cv2.VideoCapture | None = capture
        self._description = description
        self._lock = threading.Lock()  # held during every read and at the real release
        self._release_asked = threading.Event()

    @property
    def description(self) -> str:
        return self._description

    @property
    def released(self) -> bool:
        return self._capture is None

    def release(self) -> None:
        self._release_asked.set()
        if self._lock.acquire(blocking=False):  # no read in progress: release now
            try:
                self._close()
            finally:
                self._lock.release()

    def _grab(self) -> Any:
        """One `VideoCapture.read()`: the array, or None (no frame, failed, or released)."""
        with self._lock:
            if self._capture is None or self._release_asked.is_set():
                self._close()
                return None
            ok, data = self._capture.read()
            if self._release_asked.is_set():  # asked while the read blocked: do it now
                self._close()
                return None
        return data if ok else None

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
            logger.debug("released %s", self._description)


class StreamFrameSource(_CaptureSource):
    """An RTSP or HTTP(S) camera stream through FFmpeg, with open and read timeouts."""

    def __init__(self, url: str, *, stall_seconds: float) -> None:
        shown = redact_url(url)
        open_s, read_s = stream_timeouts(stall_seconds)
        if url.lower().startswith("rtsp"):
            os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, round(open_s * 1000)]
        params += [cv2.CAP_PROP_READ_TIMEOUT_MSEC, round(read_s * 1000)]
        capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            raise CameraOpenError(
                f"cannot open stream {shown}: unreachable, refused, not a video stream, "
                f"or no answer within {open_s:g} s"
            )
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little")
        # MJPEG: take the JPEG packets and decode them here, to see corrupt parts and real sizes.
        self._raw_jpeg = fourcc == b"MJPG" and bool(capture.set(cv2.CAP_PROP_FORMAT, -1))
        mode = "MJPEG decoded here" if self._raw_jpeg else f"{fourcc.decode('ascii', 'replace')} via FFmpeg"
        super().__init__(capture, f"stream {shown} ({mode})")
        logger.info("opened %s", self.description)

    def read(self) -> np.ndarray | None:
        data = self._grab()
        if data is None or not self._raw_jpeg:
            return data  # type: ignore[no-any-return]
        return decode_jpeg(data)


def decode_jpeg(packet: np.ndarray) -> np.ndarray:
    """One JPEG packet to a BGR frame; CorruptFrame if it is not a whole, decodable JPEG."""
    if not isinstance(packet, np.ndarray) or packet.dtype != np.uint8 or packet.size < 4:
        raise CorruptFrame("empty or malformed packet")
    data = packet.reshape(-1)
    # A cut-off JPEG still decodes (the rest painted grey): insist on its end marker near the end.
    if bytes(data[:2]) != b"\xff\xd8" or JPEG_END not in bytes(data[-32:]):
        raise CorruptFrame(f"truncated or not a JPEG ({data.size} bytes)")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise CorruptFrame(f"undecodable JPEG ({data.size} bytes)")
    return image


class DeviceFrameSource(_CaptureSource):
    """A local (V4L2) camera by index. Asks for the analysis size and a one-frame driver buffer."""

    def __init__(self, index: int, *, width: int, height: int) -> None:
        capture = cv2.VideoCapture(index)
        if not capture.isOpened():
            capture.release()
            raise CameraOpenError(f"no camera device /dev/video{index} (missing, busy or not a camera)")
        # Best effort, the driver picks its nearest mode: less to decode, and no stale frames queued.
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        super().__init__(capture, f"device /dev/video{index} ({capture.getBackendName()})")
        logger.info("opened %s", self.description)

    def read(self) -> np.ndarray | None:
        return self._grab()  # type: ignore[no-any-return]


class FileFrameSource(_CaptureSource):
    """A video file played in real time at its own frame rate; `loop` starts it again at the end.

    `clock` and `sleep` are injectable so pacing can be checked without waiting; by default the
    pause between frames ends early when the source is released.
    """

    def __init__(
        self,
        path: os.PathLike[str] | str,
        *,
        loop: bool,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.loop = loop
        capture = self._open_file()
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        if not (math.isfinite(fps) and 0 < fps <= MAX_FILE_FPS):
            logger.warning(
                "video %s: frame rate %r unusable, playing at %g fps", self.path, fps, FALLBACK_FPS
            )
            fps = FALLBACK_FPS
        self.fps = fps
        self._clock = clock
        self._sleep = sleep
        self._next_at: float | None = None
        super().__init__(capture, f"file {self.path} ({fps:g} fps{', looped' if loop else ''})")
        logger.info("opened %s", self.description)

    def _open_file(self) -> cv2.VideoCapture:
        if not os.path.isfile(self.path):
            raise CameraOpenError(f"video file not found: {self.path}")
        # FFmpeg explicitly: OpenCV's image-sequence backend would read "%d" in a name as a pattern.
        capture = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG)
        if not capture.isOpened():
            capture.release()
            raise CameraOpenError(f"not a readable video file: {self.path}")
        return capture

    def read(self) -> np.ndarray | None:
        self._pace()
        image = self._grab()
        if image is not None or self._release_asked.is_set():
            return image  # type: ignore[no-any-return]
        if not self.loop:
            raise SourceEnded(f"video file ended: {self.path}")
        if not self._rewind():
            return None
        return self._grab()  # type: ignore[no-any-return]

    def _pace(self) -> None:
        """Wait for this frame's moment; a source that fell far behind resynchronises."""
        interval = 1.0 / self.fps
        now = self._clock()
        if self._next_at is None or now - self._next_at > MAX_LAG_FRAMES * interval:
            self._next_at = now
        delay = self._next_at - now
        if delay > 0:
            if self._sleep is not None:
                self._sleep(delay)
            else:
                self._release_asked.wait(delay)
        self._next_at += interval

    def _rewind(self) -> bool:
        with self._lock:
            capture = self._capture
            if capture is None:
                return False
            if capture.set(cv2.CAP_PROP_POS_FRAMES, 0):
                return True
            capture.release()  # the container cannot seek: open the file again
            try:
                self._capture = self._open_file()
            except CameraOpenError as exc:
                logger.warning("video %s: cannot start again: %s", self.path, exc)
                self._capture = None
                return False
        return True


def _open_generated(source: GeneratedSource, *, width: int, height: int) -> FrameSource:
    try:  # imported late: the scene generator (real photos, compositing) is only needed here
        from edge.video.scene import open_generated  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise CameraOpenError(f"generated scenes are not available: {exc}") from exc
    opener: Callable[..., FrameSource] = open_generated
    try:
        return opener(source, width=width, height=height)
    except CameraOpenError:
        raise
    except (ValueError, OSError) as exc:
        raise CameraOpenError(f"cannot generate scene {source.scene!r}: {exc}") from exc
