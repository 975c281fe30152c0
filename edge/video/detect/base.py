"""One interface for person detectors, so the analytics do not care which backend finds people.

A detector takes a BGR (or grey) uint8 image and returns the people in it as boxes in that image's
pixels. The backend is chosen in the edge config (`analysis.detector.type`): `opencv` — OpenCV's
bundled Haar cascades, nothing to download, what tests and the benchmark use — or `yolo` —
ultralytics YOLO from a local weights file, the production choice. A backend that cannot work on this
box (weights missing, a package missing, cascades missing) raises `DetectorUnavailableError` with
what to do, when it is made, never at the first frame.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edge.video.config import DetectorConfig, OpenCVDetectorConfig, YoloDetectorConfig

logger = logging.getLogger(__name__)


class DetectorUnavailableError(RuntimeError):
    """The configured detector cannot run on this box; the message says why and what to do."""


@dataclass(frozen=True)
class Detection:
    """A person (face, head or body box) in image pixels; `score` in 0..1, higher is surer."""

    x: int
    y: int
    w: int
    h: int
    score: float

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def shifted(self, dx: int, dy: int) -> Detection:
        """The same box in the coordinates of a larger image whose crop started at (dx, dy)."""
        return Detection(self.x + dx, self.y + dy, self.w, self.h, self.score)

    def iou(self, other: Detection) -> float:
        ix = max(0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union > 0 else 0.0


class PersonDetector(Protocol):
    @property
    def name(self) -> str: ...

    def detect(self, image: np.ndarray) -> list[Detection]: ...


def make_detector(config: DetectorConfig) -> PersonDetector:
    """The detector the config names; DetectorUnavailableError if it cannot run here."""
    if isinstance(config, OpenCVDetectorConfig):
        from edge.video.detect.opencv_cascades import CascadeDetector

        return CascadeDetector(config)
    if isinstance(config, YoloDetectorConfig):
        from edge.video.detect.yolo import load_yolo

        return load_yolo(config)
    raise DetectorUnavailableError(f"unknown detector type {getattr(config, 'type', config)!r}")


def suppress_overlaps(detections: Sequence[Detection], *, iou: float = 0.3) -> list[Detection]:
    """Greedy non-maximum suppression: of boxes overlapping more than `iou`, keep the best scored."""
    kept: list[Detection] = []
    for candidate in sorted(detections, key=lambda d: d.score, reverse=True):
        if all(candidate.iou(k) <= iou for k in kept):
            kept.append(candidate)
    return kept


def check_image(image: object) -> np.ndarray:
    """The image as an array a detector can take, or ValueError saying what is wrong with it."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"expected an image array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"expected a grey (H×W) or BGR (H×W×3) image, got shape {image.shape}")
    if image.shape[0] < 8 or image.shape[1] < 8:
        raise ValueError(f"image of {image.shape[1]}×{image.shape[0]} pixels is too small to analyse")
    return image
