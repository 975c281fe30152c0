"""A window's regions (relative polygons in the config) as pixels of one frame size.

The config keeps regions in coordinates relative to the frame (0..1), so they survive a camera that
changes resolution; analysis needs them in pixels: a bounding box to crop (the detector and the
motion gate only look at that box, which is what makes per-region analysis cheap) and a mask of the
polygon inside it (pixels outside the polygon — the neighbouring window, the aisle — are blanked so
they neither trigger the gate nor hold a detection).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

Image = np.ndarray  # BGR (or grey) uint8, as OpenCV hands it over
RelativePolygon = Sequence[tuple[float, float]]


@dataclass(frozen=True)
class Region:
    """A polygon in pixels of a `width` × `height` frame: its bounding box and its mask in that box."""

    x0: int
    y0: int
    x1: int
    y1: int
    mask: Image  # (y1 - y0, x1 - x0), 255 inside the polygon
    area: int  # pixels inside the polygon

    @classmethod
    def from_polygon(cls, polygon: RelativePolygon, *, width: int, height: int) -> Region:
        points = polygon_pixels(polygon, width=width, height=height)
        x, y, w, h = cv2.boundingRect(points)
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, width), min(y + h, height)
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise ValueError(f"region {list(polygon)} is smaller than 2×2 pixels in a {width}×{height} frame")
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [points - np.array([x0, y0], np.int32)], 255)
        return cls(x0=x0, y0=y0, x1=x1, y1=y1, mask=mask, area=max(int(cv2.countNonZero(mask)), 1))

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def crop(self, image: Image) -> Image:
        """The bounding box of the region (a view, not a copy)."""
        return image[self.y0 : self.y1, self.x0 : self.x1]

    def masked_crop(self, image: Image) -> Image:
        """The bounding box with everything outside the polygon set to black (a copy)."""
        crop = self.crop(image)
        return cv2.bitwise_and(crop, crop, mask=self.mask)

    def contains(self, x: float, y: float) -> bool:
        """Whether the frame pixel (x, y) lies inside the polygon."""
        col, row = int(x) - self.x0, int(y) - self.y0
        if not (0 <= row < self.height and 0 <= col < self.width):
            return False
        return bool(self.mask[row, col])


def polygon_pixels(polygon: RelativePolygon, *, width: int, height: int) -> np.ndarray:
    """Relative (x, y) points → an (N, 2) int32 array of pixel coordinates inside the frame."""
    points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    scaled: np.ndarray = np.rint(points * np.array([width - 1, height - 1])).astype(np.int32)
    return scaled
