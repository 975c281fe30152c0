"""The bundled person detector: OpenCV's Haar cascades, which need nothing downloaded.

Faces are what a window camera sees of a seated person, so the detector combines the frontal face
cascade (alt2) with the profile face cascade, run on the image and on its mirror (the profile cascade
only knows faces turned one way). Boxes found by several cascades are merged (greedy non-maximum
suppression). The score is the number of neighbouring hits behind a box, n / (n + min_neighbors).

OpenCV's upper-body cascade is not used: on the photographs the tests use (astronaut, camera,
grace_hopper) and on generated hall scenes it found nobody at all, at a fifth more CPU per call.

The cascade files ship with opencv-python(-headless) 4.x in `cv2.data.haarcascades`; OpenCV 5
dropped them (and HOG), which is why the project pins opencv < 5. Missing files are a clear
DetectorUnavailableError when the detector is made.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from edge.video.config import OpenCVDetectorConfig
from edge.video.detect.base import Detection, DetectorUnavailableError, check_image, suppress_overlaps

logger = logging.getLogger(__name__)

FRONTAL = "haarcascade_frontalface_alt2.xml"
PROFILE = "haarcascade_profileface.xml"


def cascade_dir() -> Path | None:
    """Where this OpenCV keeps its Haar cascades (None if it has none)."""
    data = getattr(cv2, "data", None)
    folder = getattr(data, "haarcascades", None)
    return Path(folder) if folder else None


class CascadeDetector:
    name = "opencv"

    def __init__(self, config: OpenCVDetectorConfig, *, folder: Path | None = None) -> None:
        self.config = config
        folder = folder if folder is not None else cascade_dir()
        self._frontal = _load(folder, FRONTAL)
        self._profile = _load(folder, PROFILE)

    def detect(self, image: np.ndarray) -> list[Detection]:
        image = check_image(image)
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        width = gray.shape[1]
        found = self._run(self._frontal, gray)
        found += self._run(self._profile, gray)
        mirrored = self._run(self._profile, cv2.flip(gray, 1))
        found += [Detection(width - d.x - d.w, d.y, d.w, d.h, d.score) for d in mirrored]
        return suppress_overlaps(found)

    def _run(self, cascade: cv2.CascadeClassifier, gray: np.ndarray) -> list[Detection]:
        smallest = self.config.min_size
        if min(gray.shape[:2]) < smallest:
            return []
        boxes, neighbours = cascade.detectMultiScale2(
            gray,
            scaleFactor=self.config.scale_factor,
            minNeighbors=self.config.min_neighbors,
            minSize=(smallest, smallest),
        )
        k = self.config.min_neighbors
        return [
            Detection(int(x), int(y), int(w), int(h), float(n) / (float(n) + k))
            for (x, y, w, h), n in zip(boxes, neighbours, strict=True)
        ]


def _load(folder: Path | None, filename: str) -> cv2.CascadeClassifier:
    if folder is None or not (folder / filename).is_file():
        where = folder or "cv2.data.haarcascades (absent)"
        raise DetectorUnavailableError(
            f"OpenCV's Haar cascade {filename} is not in {where}: the opencv detector needs "
            f"opencv-python-headless 4.x (OpenCV 5 dropped the cascades); install 'opencv-python-headless<5' "
            f"or configure the yolo detector"
        )
    try:
        cascade = cv2.CascadeClassifier(str(folder / filename))
    except (cv2.error, SystemError) as exc:  # a file that is not a cascade: OpenCV's parser raises
        raise DetectorUnavailableError(
            f"OpenCV cannot load the Haar cascade {folder / filename}: {exc}"
        ) from exc
    if cascade.empty():
        raise DetectorUnavailableError(f"OpenCV cannot load the Haar cascade {folder / filename}")
    return cascade
