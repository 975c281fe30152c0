"""Cameras for the live tests: a picture source the test controls (it can hang, as a frozen camera
does), read through the agent's real capture (edge.video.capture.CameraReader)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from edge.live.config import LiveConfig
from edge.live.publisher import LiveCamera, LivePublisher
from edge.video.capture import CameraReader
from edge.video.config import CameraConfig, Polygon

logger = logging.getLogger(__name__)

RIGHT_HALF: Polygon = [(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]


def bright_picture(width: int = 640, height: int = 360) -> np.ndarray:
    """Bright everywhere (white left, yellow right), with a dark moving-free grid for texture."""
    image = np.full((height, width, 3), 235, np.uint8)
    image[:, width // 2 :] = (40, 230, 240)
    image[::40, :] = 180
    return image


class HangingCamera:
    """A FrameSource factory: `picture` at `fps`; while `hung` is set, read() blocks (no frames)."""

    def __init__(self, picture: np.ndarray, *, fps: float = 10.0) -> None:
        self.picture, self.fps = picture, fps
        self.hung = threading.Event()
        self.opened = 0

    def open(self, config: CameraConfig) -> _Source:
        self.opened += 1
        return _Source(self)


class _Source:
    def __init__(self, camera: HangingCamera) -> None:
        self._camera = camera
        self._released = threading.Event()
        self._count = 0

    @property
    def description(self) -> str:
        return "test picture"

    def read(self) -> np.ndarray | None:
        if self._released.wait(1 / self._camera.fps):
            return None
        while self._camera.hung.is_set():
            if self._released.wait(0.05):
                return None
        self._count += 1
        picture = self._camera.picture.copy()
        picture[-4:, : self._count % picture.shape[1]] = 0  # a growing bar: every frame differs
        return picture

    def release(self) -> None:
        self._released.set()


def camera_config(name: str = "CAM-L", **fields: Any) -> CameraConfig:
    return CameraConfig.model_validate(
        {"name": name, "source": {"type": "generated"}, "stall_seconds": 1.0, **fields}
    )


def live_config(**fields: Any) -> LiveConfig:
    return LiveConfig.model_validate({"host_addresses": ["127.0.0.1"], **fields})


def publisher_for(
    readers: dict[str, CameraReader], masks: dict[str, list[Polygon]] | None = None, **config: Any
) -> LivePublisher:
    cameras = [LiveCamera(n, r, tuple((masks or {}).get(n, ()))) for n, r in readers.items()]
    return LivePublisher(cameras, live_config(**config))
