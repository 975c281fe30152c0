"""The production person detector: ultralytics YOLO from a local weights file.

Nothing is downloaded on an edge box (halls sit on closed government networks): the weights file
named in the config must be there, and that is checked first, before anything is imported, so a
missing file is a clear error that says what to copy where. ultralytics (and PyTorch) are an
optional extra, `pip install 'hallwatch[yolo]'`, imported only when this backend is chosen.

Only the COCO class 0 ("person") is asked for. `detect_batch` sends several images in one call (a
camera analyser's window crops, or the benchmark's batch timing on a GPU).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from edge.video.config import YoloDetectorConfig
from edge.video.detect.base import Detection, DetectorUnavailableError, check_image

logger = logging.getLogger(__name__)

PERSON = 0  # the COCO class id of "person"


class YoloDetector:
    """A loaded ultralytics model (`YOLO(weights)`, or `YOLO("yolo11n.yaml")` for throughput only)."""

    name = "yolo"

    def __init__(self, model: Any, *, confidence: float, image_size: int, device: str) -> None:
        self.model = model
        self.confidence, self.image_size, self.device = confidence, image_size, device

    def detect(self, image: np.ndarray) -> list[Detection]:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        if not images:
            return []
        batch = [_bgr(check_image(image)) for image in images]
        results = self.model.predict(
            batch,
            classes=[PERSON],
            conf=self.confidence,
            imgsz=self.image_size,
            device=self.device,
            verbose=False,
        )
        return [_detections(result) for result in results]


def load_yolo(config: YoloDetectorConfig) -> YoloDetector:
    """Check the weights file, import ultralytics, load the model; DetectorUnavailableError if any fails."""
    weights = config.weights
    if not weights.is_file():
        raise DetectorUnavailableError(
            f"YOLO weights file {weights} not found; copy e.g. yolo11n.pt there — nothing is downloaded "
            f"on the edge box"
        )
    try:
        ultralytics = importlib.import_module("ultralytics")
    except ImportError as exc:
        raise DetectorUnavailableError(
            f"the yolo detector needs ultralytics and PyTorch, which are not installed "
            f"(pip install 'hallwatch[yolo]'), or configure the opencv detector: {exc}"
        ) from exc
    try:
        model = ultralytics.YOLO(str(weights))
    except Exception as exc:  # a corrupt or foreign file: ultralytics raises many kinds
        raise DetectorUnavailableError(f"cannot load YOLO weights {weights}: {exc}") from exc
    logger.info(
        "YOLO weights %s loaded (device %s, image size %d)", weights, config.device, config.image_size
    )
    return YoloDetector(
        model, confidence=config.confidence, image_size=config.image_size, device=config.device
    )


def _bgr(image: np.ndarray) -> np.ndarray:
    # ultralytics takes numpy images as BGR with three channels, like OpenCV.
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image


def _detections(result: Any) -> list[Detection]:
    boxes = result.boxes
    if boxes is None or len(boxes) == 0:
        return []
    corners = np.asarray(boxes.xyxy.cpu().numpy(), dtype=np.float64)
    scores = np.asarray(boxes.conf.cpu().numpy(), dtype=np.float64)
    found = []
    for (x0, y0, x1, y1), score in zip(corners, scores, strict=True):
        x, y = round(x0), round(y0)
        found.append(Detection(x, y, max(round(x1) - x, 1), max(round(y1) - y, 1), float(score)))
    return found
