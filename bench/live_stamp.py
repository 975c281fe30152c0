"""A camera whose frames carry their capture time, drawn into the picture as black and white blocks.

The glass-to-glass benchmark (bench.live_glass) reads the time back from what the browser presents.
Blocks survive VP8 at the focus profile's bitrate and any scaling: a row of 32 px squares on the
16 px macroblock grid, a white and a black reference first (the threshold is their midpoint), then
the capture time in ms (modulo 2**24, about 4.6 hours: far more than any latency) and its CRC-8,
so a misread frame is dropped rather than counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import numpy as np

from edge.video.config import CameraConfig

logger = logging.getLogger(__name__)

BLOCK = 32  # px, at the camera's 1280x720; a multiple of VP8's 16 px macroblocks
ORIGIN = (32, 32)  # x, y of the first block
DATA_BITS = 24
CHECK_BITS = 8
BLOCKS = 2 + DATA_BITS + CHECK_BITS
MODULUS = 1 << DATA_BITS


def checksum(value: int) -> int:
    """CRC-8 (polynomial 0x07) of the value's 24 bits, most significant first."""
    crc = 0
    for i in range(DATA_BITS - 1, -1, -1):
        feedback = ((crc >> 7) & 1) ^ ((value >> i) & 1)
        crc = (crc << 1) & 0xFF
        if feedback:
            crc ^= 0x07
    return crc


def stamp_bits(ms: int) -> list[int]:
    value = ms % MODULUS
    data = [(value >> (DATA_BITS - 1 - i)) & 1 for i in range(DATA_BITS)]
    check = checksum(value)
    return [1, 0, *data, *[(check >> (CHECK_BITS - 1 - i)) & 1 for i in range(CHECK_BITS)]]


def draw_stamp(picture: np.ndarray, ms: int) -> None:
    """Draw `ms` into `picture` (BGR, at least 1280 px wide), in place."""
    x0, y0 = ORIGIN
    for i, bit in enumerate(stamp_bits(ms)):
        picture[y0 : y0 + BLOCK, x0 + i * BLOCK : x0 + (i + 1) * BLOCK] = 255 if bit else 0


def read_stamp(picture: np.ndarray) -> int | None:
    """The stamp drawn by `draw_stamp` (modulo 2**24), or None if the checksum fails. The page reads
    it the same way in JavaScript (bench/glass.html); this copy checks the layout here."""
    x0, y0 = ORIGIN
    grey = picture.mean(axis=2) if picture.ndim == 3 else picture
    levels = [
        float(grey[y0 + 8 : y0 + BLOCK - 8, x0 + i * BLOCK + 8 : x0 + (i + 1) * BLOCK - 8].mean())
        for i in range(BLOCKS)
    ]
    threshold = (levels[0] + levels[1]) / 2
    bits = [int(level > threshold) for level in levels[2:]]
    value = int("".join(map(str, bits[:DATA_BITS])), 2)
    check = int("".join(map(str, bits[DATA_BITS:])), 2)
    return value if checksum(value) == check else None


def full_time(stamp: int, near_ms: float) -> float:
    """The full ms time of a stamp taken shortly before `near_ms`."""
    return near_ms - ((near_ms - stamp) % MODULUS)


class StampedCamera:
    """A FrameSource factory: the bank's frames in turn at `fps`, each with its capture time drawn in
    (time.time(), the wall clock the page's performance.timeOrigin + now() also follows)."""

    def __init__(self, bank: Sequence[np.ndarray], *, fps: float) -> None:
        self.bank, self.fps = bank, fps

    def open(self, config: CameraConfig) -> _StampedSource:
        return _StampedSource(self)


class _StampedSource:
    def __init__(self, camera: StampedCamera) -> None:
        self._camera = camera
        self._released = threading.Event()
        self._next = time.monotonic()
        self._count = 0

    @property
    def description(self) -> str:
        return "bench stamped camera"

    def read(self) -> np.ndarray | None:
        self._next = max(self._next + 1 / self._camera.fps, time.monotonic() - 1 / self._camera.fps)
        if self._released.wait(max(0.0, self._next - time.monotonic())):
            return None
        self._count += 1
        picture = self._camera.bank[self._count % len(self._camera.bank)].copy()
        # Stamped last, as the frame leaves the "sensor": the copy above is not part of the latency.
        draw_stamp(picture, round(time.time() * 1000))
        return picture

    def release(self) -> None:
        self._released.set()
