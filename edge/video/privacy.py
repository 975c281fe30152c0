"""What is blacked out of a camera's images: one rule for every image that leaves a camera.

Masks belong to the camera, not to a window: a snapshot, a clip or a live view shows the whole
frame, so the monitor under one window's mask is in every picture its neighbours trigger (four
windows under one camera, the demo hall's shape). `camera_masks` gives every mask of every window
the camera sees, plus the camera's own (a door, an ID-card reader, a citizen's screen), and
`apply_privacy_masks` fills them black on a copy of the frame before any encoder sees it, so no trace
of what they cover reaches a file or a viewer. Masks are relative polygons, so they scale to the
frame they are applied to (the analysis frame or the camera's full-resolution source).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from edge.video.config import CameraConfig, Point, Polygon, WindowConfig
from edge.video.regions import polygon_pixels

logger = logging.getLogger(__name__)


class MaskError(ValueError):
    """The image cannot be masked (not an 8-bit colour frame)."""


def camera_masks(camera: CameraConfig, windows: Iterable[WindowConfig]) -> tuple[Polygon, ...]:
    """Every privacy mask on `camera`'s images: its own, then each of its windows' (in config order).

    Windows of other cameras are ignored, so callers may pass the whole hall's list."""
    masks: list[Polygon] = list(camera.privacy_masks)
    for window in windows:
        if window.camera == camera.name:
            masks.extend(window.privacy_masks)
    return tuple(masks)


def apply_privacy_masks(image: np.ndarray, masks: Sequence[Sequence[Point]]) -> np.ndarray:
    """A copy of `image` with every mask polygon (and its outline) black; the input is untouched."""
    check_colour_frame(image)
    masked = image.copy()
    height, width = masked.shape[:2]
    polygons = [polygon_pixels(mask, width=width, height=height) for mask in masks]
    if polygons:
        # One polygon at a time: fillPoly's even-odd rule would unmask where two masks overlap.
        for polygon in polygons:
            cv2.fillPoly(masked, [polygon], (0, 0, 0))
        cv2.polylines(masked, polygons, isClosed=True, color=(0, 0, 0), thickness=1)
    return masked


def check_colour_frame(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise MaskError("an 8-bit image is needed")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 2 or image.shape[1] < 2:
        raise MaskError(f"a colour frame is needed, got shape {getattr(image, 'shape', None)}")
