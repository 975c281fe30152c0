"""What a simulated hall's edge agent stores in its outbox: observations in the real wire format, each
built through its contract model (`common.contract`, then `to_wire`, as the edge's producers do) with
ids in the edge's own formats, unique for the run.

Four kinds are kept at central one row per observation id (presses, presence intervals, visitor counts,
evidence): those are the ones the soak counts for exactly once (`TRACKED`). Keypad and camera health
reports keep only the newest per device at central; they are load, at the edge's own rate.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import cv2
import numpy as np

from bench.soak_plan import HallPlan
from common.contract import (
    CameraHealthIn,
    EvidenceIn,
    KeypadHealthIn,
    KeypadPressIn,
    PresenceIn,
    VisitorCountIn,
    to_wire,
)

logger = logging.getLogger(__name__)

TRACKED = ("keypad_press", "presence", "visitor_count", "evidence")
KINDS = (*TRACKED, "keypad_health", "camera_health")
KEY_SHARES = {5: 0.60, 4: 0.25, 3: 0.10, 2: 0.03, 1: 0.02}  # as bench/keypads.py: 差评 are a few percent
SNAPSHOT_SIZE = (640, 360)


def snapshots(count: int, seed: int) -> list[tuple[str, str, int, int]]:
    """`count` different masked-looking JPEG snapshots: (base64, sha256, width, height), ~30 KB each."""
    rng = np.random.default_rng(seed)
    width, height = SNAPSHOT_SIZE
    made = []
    for _ in range(count):
        gradient = np.linspace(40, 200, width, dtype=np.float32)[None, :, None]
        image = np.clip(gradient + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)
        x, y = int(rng.integers(0, width - 160)), int(rng.integers(0, height - 120))
        image[y : y + 120, x : x + 160] = 128  # the masked face
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
        assert ok
        data = jpeg.tobytes()
        made.append((base64.b64encode(data).decode(), hashlib.sha256(data).hexdigest(), width, height))
    return made


class HallObservations:
    """One hall's producers: a keypad per window, a camera per two windows."""

    def __init__(self, plan: HallPlan, rng: random.Random, jpegs: list[tuple[str, str, int, int]]) -> None:
        self.windows = plan.windows
        self.rng = rng
        self.jpegs = jpegs
        self._seq = dict.fromkeys(self.windows, 0)
        self._boot = time.monotonic() - rng.uniform(3600, 86400)
        self._hours_back = dict.fromkeys(self.windows, 0)
        self._last_ms = 0

    def make(self, kind: str) -> dict[str, Any]:
        return {
            "keypad_press": self.press,
            "presence": self.presence,
            "visitor_count": self.visitor_count,
            "evidence": self.evidence,
            "keypad_health": self.keypad_health,
            "camera_health": self.camera_health,
        }[kind]()

    def _unique_ms(self) -> int:
        """Wall milliseconds, strictly increasing within the hall: ids from them never repeat."""
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        return self._last_ms

    def _window(self) -> str:
        return self.rng.choice(self.windows)

    def _camera(self, window: str) -> str:
        return f"CAM{(self.windows.index(window) // 2) + 1:02d}"

    def press(self) -> dict[str, Any]:
        window = self._window()
        keypad = f"KP-{window}"
        seq = self._seq[window] = (self._seq[window] + 1) % 65536
        uptime_ms = int((time.monotonic() - self._boot) * 1000) % 2**32
        key = self.rng.choices(list(KEY_SHARES), weights=list(KEY_SHARES.values()))[0]
        return to_wire(
            KeypadPressIn(
                id=f"{keypad}:{seq}:{uptime_ms}",
                kind="keypad_press",
                at=datetime.now(UTC),
                window=window,
                keypad=keypad,
                seq=seq,
                key=key,
                uptime_ms=uptime_ms,
                citizen_present=True,
            )
        )

    def presence(self) -> dict[str, Any]:
        window = self._window()
        start_ms = self._unique_ms() - 600_000  # began ten minutes ago, ended a moment ago
        start = datetime.fromtimestamp(start_ms / 1000, UTC)
        end = start + timedelta(seconds=self.rng.uniform(60, 590))
        return to_wire(
            PresenceIn(
                id=f"{window}:pres:{start_ms}",
                kind="presence",
                window=window,
                camera=self._camera(window),
                start=start,
                end=end,
            )
        )

    def visitor_count(self) -> dict[str, Any]:
        """A past hour's count, each (window, hour) once: the hours before this one, newest first."""
        window = self._window()
        self._hours_back[window] += 1
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        hour -= timedelta(hours=self._hours_back[window])
        epoch = int(hour.timestamp())
        return to_wire(
            VisitorCountIn(
                id=f"{window}:vis:{epoch}:0",
                kind="visitor_count",
                window=window,
                camera=self._camera(window),
                hour_start=hour,
                visits=self.rng.randint(0, 12),
                seated_seconds=self.rng.uniform(0, 1800),
            )
        )

    def evidence(self) -> dict[str, Any]:
        window = self._window()
        data, sha, width, height = self.rng.choice(self.jpegs)
        return to_wire(
            EvidenceIn(
                id=f"{window}:ev:{self._unique_ms()}",
                kind="evidence",
                at=datetime.now(UTC),
                window=window,
                camera=self._camera(window),
                reason="absence_start",
                width=width,
                height=height,
                sha256=sha,
                jpeg_base64=data,
            )
        )

    def keypad_health(self) -> dict[str, Any]:
        window = self._window()
        keypad, now = f"KP-{window}", datetime.now(UTC)
        return to_wire(
            KeypadHealthIn(
                id=f"{keypad}:health:{self._unique_ms()}",
                kind="keypad_health",
                at=now,
                window=window,
                keypad=keypad,
                online=True,
                firmware="1.4.2",
                last_heartbeat_at=now,
                bad_frames=0,
                reconnects=0,
            )
        )

    def camera_health(self) -> dict[str, Any]:
        window = self._window()
        camera, now = self._camera(window), datetime.now(UTC)
        first = (self.windows.index(window) // 2) * 2
        watched = [
            {"code": code, "staffed": True, "seat_taken": True, "taken_since": now - timedelta(minutes=20)}
            for code in self.windows[first : first + 2]
        ]
        return to_wire(
            CameraHealthIn.model_validate(
                {
                    "id": f"{camera}:cam:{self._unique_ms()}",
                    "kind": "camera_health",
                    "at": now,
                    "camera": camera,
                    "online": True,
                    "fps": 2.0,
                    "width": 1280,
                    "height": 720,
                    "reconnects": 0,
                    "last_frame_at": now,
                    "windows": watched,
                }
            )
        )


def hourly_rates(windows: int, *, presses: float, presence: float, visitor_counts: float, evidence: float,
                 health_every_seconds: float | None) -> dict[str, float]:  # fmt: skip
    """Observations per second of each kind for a hall of `windows` windows."""
    cameras = (windows + 1) // 2
    rates = {
        "keypad_press": windows * presses / 3600,
        "presence": windows * presence / 3600,
        "visitor_count": windows * visitor_counts / 3600,
        "evidence": windows * evidence / 3600,
    }
    if health_every_seconds is not None:
        rates |= {
            "keypad_health": windows / health_every_seconds,
            "camera_health": cameras / health_every_seconds,
        }
    return rates
