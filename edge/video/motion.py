"""The motion gate: has a region changed since the detector last had reason to look?

Running a person detector on every frame of every window is what makes video analytics expensive;
most of the time nothing in a window's region moves. Each region keeps a running background (an
exponentially weighted average of its blurred grey pixels, time constant `BACKGROUND_SECONDS`); the
share of the region's pixels differing from it by more than `PIXEL_THRESHOLD` grey levels is the
motion. Blurring first keeps sensor noise (σ ≈ 2–3 levels) far below the threshold; the background
follows slow lighting drift. Someone sitting down or getting up changes a large share for a few
seconds (until the background absorbs them), fidgeting a few pixels changes the edges.

The gate only says "something changed": the analyser also runs the detector on a timer
(`recheck_seconds`) so a person who sits perfectly still is looked at again.
"""

from __future__ import annotations

import logging
import math

import cv2
import numpy as np

logger = logging.getLogger(__name__)

PIXEL_THRESHOLD = 18  # grey levels; well above blurred sensor noise, below a face over a wall
BACKGROUND_SECONDS = 3.0  # time constant of the running background
BLUR = (5, 5)


class MotionGate:
    """Motion of one region: `update(grey crop, mask, seconds since the last frame)` → changed share."""

    def __init__(
        self, *, pixel_threshold: int = PIXEL_THRESHOLD, background_seconds: float = BACKGROUND_SECONDS
    ) -> None:
        self.pixel_threshold = pixel_threshold
        self.background_seconds = background_seconds
        self._background: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the background (a new frame size, a gap in the video)."""
        self._background = None

    def update(self, grey: np.ndarray, mask: np.ndarray, *, elapsed: float) -> float:
        """Share (0..1) of the mask's pixels that differ from the background; learns the frame."""
        blurred = cv2.GaussianBlur(grey, BLUR, 0).astype(np.float32)
        if self._background is None or self._background.shape != blurred.shape:
            self._background = blurred
            return 0.0
        difference = cv2.absdiff(blurred, self._background)
        changed = (difference > self.pixel_threshold).astype(np.uint8)
        share = cv2.countNonZero(cv2.bitwise_and(changed, changed, mask=mask)) / max(
            cv2.countNonZero(mask), 1
        )
        rate = 1.0 - math.exp(-max(elapsed, 0.0) / self.background_seconds)
        cv2.accumulateWeighted(blurred, self._background, rate)
        return float(share)
