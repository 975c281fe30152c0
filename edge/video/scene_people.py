"""The people of generated hall scenes: real photographs shipped by installed packages, cut out.

A person detector must be tested on people. scikit-image ships `astronaut` (Eileen Collins, frontal)
and `camera` (the cameraman, a profile), matplotlib ships `grace_hopper.jpg` (frontal); each is cut
out as head and shoulders (an ellipse for the head, the neck, an ellipse for the shoulders, feathered)
around its face, and also mirrored. scikit-image is a development dependency: without it scenes use
the matplotlib photograph alone, with a warning. The face boxes below only say where to cut; no
detector result is stored anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

logger = logging.getLogger(__name__)

Image = np.ndarray  # BGR (or grey) uint8, as OpenCV hands it over


@dataclass(frozen=True)
class _Photo:
    """A photograph and where its face is, to cut head and shoulders around it."""

    name: str
    load: Callable[[], Image]
    face: tuple[int, int, int, int]  # x, y, w, h in the photograph
    shoulders_dx: float = 0.0  # shoulder centre relative to the face centre, in face widths


def _skimage(name: str) -> Image:
    from skimage import data  # type: ignore[import-untyped,unused-ignore]

    image: Image = getattr(data, name)()
    return image


def _astronaut() -> Image:
    return np.ascontiguousarray(_skimage("astronaut")[:, :, ::-1])


def _cameraman() -> Image:
    return cv2.cvtColor(_skimage("camera"), cv2.COLOR_GRAY2BGR)


def _grace_hopper() -> Image:
    from matplotlib import cbook

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    image = cv2.imread(str(path))
    if image is None:
        raise FileNotFoundError(f"cannot read {path}")
    return image


PHOTOS = (
    _Photo("astronaut", _astronaut, (177, 66, 95, 95)),
    _Photo("grace_hopper", _grace_hopper, (155, 105, 222, 222)),
    _Photo("cameraman", _cameraman, (160, 85, 100, 110), shoulders_dx=-0.45),
)


@dataclass(frozen=True)
class Sprite:
    """A cut-out person: colour and coverage (0..1), and the face centre inside the cut-out."""

    bgr: np.ndarray
    alpha: np.ndarray  # (h, w, 1)
    face_x: int
    face_y: int


@dataclass(frozen=True)
class _Person:
    bgr: Image
    alpha: np.ndarray
    face_x: int
    face_y: int
    face_width: int


@cache
def people() -> tuple[_Person, ...]:
    """Every available person at photograph scale, mirrored copies after the originals. Cached: the
    photographs are decoded once per process."""
    found = []
    for photo in PHOTOS:
        try:
            image = photo.load()
        except ImportError:
            logger.warning("photograph %s needs scikit-image (a dev dependency): skipped", photo.name)
            continue
        found.append(_cut_out(image, photo))
    if not found:
        raise RuntimeError("no photograph available for generated scenes (matplotlib's sample data?)")
    mirrored = [
        _Person(
            p.bgr[:, ::-1].copy(),
            p.alpha[:, ::-1].copy(),
            p.bgr.shape[1] - 1 - p.face_x,
            p.face_y,
            p.face_width,
        )
        for p in found
    ]
    return tuple(found + mirrored)


def _cut_out(image: Image, photo: _Photo) -> _Person:
    fx, fy, fw, fh = photo.face
    cx, cy = fx + fw / 2, fy + 0.45 * fh
    x0, x1 = round(cx - 1.3 * fw), round(cx + 1.3 * fw)
    y0, y1 = round(fy - 0.55 * fh), round(fy + 2.4 * fh)
    canvas = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, image.shape[1]), min(y1, image.shape[0])
    canvas[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    alpha = np.zeros(canvas.shape[:2], np.uint8)
    head = (round(cx - x0), round(cy - y0))
    cv2.ellipse(alpha, head, (round(0.62 * fw), round(0.82 * fh)), 0, 0, 360, 255, -1)
    neck = ((round(head[0] - 0.3 * fw), head[1]), (round(head[0] + 0.3 * fw), round(head[1] + 1.2 * fh)))
    cv2.rectangle(alpha, *neck, 255, -1)
    shoulders = (round(head[0] + photo.shoulders_dx * fw), round(cy - y0 + 1.85 * fh))
    cv2.ellipse(alpha, shoulders, (round(1.3 * fw), round(0.95 * fh)), 0, 0, 360, 255, -1)
    inside = np.zeros_like(alpha)
    inside[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = 1
    alpha *= inside  # nothing from outside the photograph
    soft = cv2.GaussianBlur(alpha, (0, 0), max(fw * 0.04, 1.0)).astype(np.float32) / 255.0
    return _Person(canvas, soft, head[0], head[1], fw)


def sprite(person: int, face_width: float) -> Sprite:
    """Person `person` (modulo those available) scaled to a face `face_width` pixels wide."""
    cut = people()[person % len(people())]
    scale = face_width / cut.face_width
    size = (max(round(cut.bgr.shape[1] * scale), 2), max(round(cut.bgr.shape[0] * scale), 2))
    bgr = cv2.resize(cut.bgr, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = cv2.resize(cut.alpha, size, interpolation=cv2.INTER_AREA)[:, :, None]
    return Sprite(bgr, alpha, round(cut.face_x * scale), round(cut.face_y * scale))


def paste(frame: Image, sprite: Sprite, x: int, y: int) -> None:
    h, w = sprite.alpha.shape[:2]
    fx0, fy0 = max(x, 0), max(y, 0)
    fx1, fy1 = min(x + w, frame.shape[1]), min(y + h, frame.shape[0])
    if fx1 <= fx0 or fy1 <= fy0:
        return
    sx0, sy0 = fx0 - x, fy0 - y
    roi = frame[fy0:fy1, fx0:fx1].astype(np.float32)
    alpha = sprite.alpha[sy0 : sy0 + fy1 - fy0, sx0 : sx0 + fx1 - fx0]
    colour = sprite.bgr[sy0 : sy0 + fy1 - fy0, sx0 : sx0 + fx1 - fx0]
    frame[fy0:fy1, fx0:fx1] = np.clip(roi + alpha * (colour - roi), 0, 255).astype(np.uint8)
