"""Shared by the video tests: a provincial hall with two windows and a county hall, edge agents with
device keys, the people who review absences and approve evidence access, and builders of every
camera observation of the contract (`common.contract`). Evidence JPEGs are encoded by
OpenCV from a real photograph (scikit-image's astronaut); clips by the edge's own VP8 encoder and
WebM muxer."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from skimage import data as photos
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.core.clock import SHANGHAI
from central.registry.models import Department, ServiceWindow
from edge.live.clips import make_clip
from edge.live.config import LiveProfileConfig
from edge.live.encoder import Vp8Encoder
from edge.live.ring import RingFrame
from tests.central.devices.helpers import OBSERVATIONS, edge
from tests.conftest import FakeClock, SignedIn, make_user

__all__ = ["edge"]

PASSWORD = "correct-horse-battery-2026"
HALL = "510000-ZWFW"
COUNTY_HALL = "510104-ZWFW"
PEOPLE: dict[str, tuple[Role, str]] = {
    "inspector": (Role.INSPECTOR, "region:510000"),  # the province: both halls
    "approver": (Role.INSPECTOR, "hall:510000-ZWFW"),  # decides evidence requests of the provincial hall
    "county": (Role.INSPECTOR, "region:510104"),  # the county hall only
    "clerk": (Role.POST_USER, "department:SCJGJ"),  # the department of windows W01 and W02
    "admin": (Role.SYSADMIN, "*"),  # no part in supervision
}


@dataclass
class World:
    headers: dict[str, dict[str, str]]  # X-Device-Key of EDGE-P (provincial hall) and EDGE-K (county)
    people: dict[str, SignedIn]


@pytest.fixture
def world(client: TestClient, db: Engine, session: Session, edge: dict[str, dict[str, str]]) -> World:
    """Window W02 beside W01 (department SCJGJ), K01 in the county hall, and the PEOPLE."""
    department = session.scalar(select(Department.id).where(Department.code == "SCJGJ"))
    hall = session.scalar(select(ServiceWindow.hall_id).where(ServiceWindow.code == "W01"))
    session.add(ServiceWindow(code="W02", name="2号窗口", hall_id=hall, department_id=department))
    session.commit()
    for name, (role, scope) in PEOPLE.items():
        make_user(db, name, role=role, scope=scope, password=PASSWORD)
    return World(headers=edge, people={name: SignedIn(name, PASSWORD) for name in PEOPLE})


def shanghai(clock: FakeClock, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of the clock's Shanghai day."""
    day = clock().astimezone(SHANGHAI).date()
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def camera_health(
    at: datetime,
    *,
    online: bool = True,
    camera: str = "cam-1",
    last_frame_at: datetime | None = None,
    detail: str | None = None,
    windows: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "windows": windows or [],
        "id": f"{camera}:cam:{ms(at)}",
        "kind": "camera_health",
        "at": at.isoformat(),
        "camera": camera,
        "online": online,
        "fps": 5.0 if online else 0.0,
        "width": 1280,
        "height": 720,
        "reconnects": 0 if online else 2,
        "last_frame_at": (last_frame_at or (at if online else at - timedelta(seconds=10))).isoformat(),
        "detail": detail,
    }


def presence(start: datetime, end: datetime, *, window: str = "W01", camera: str = "cam-1") -> dict[str, Any]:
    return {
        "id": f"{window}:pres:{ms(start)}",
        "kind": "presence",
        "window": window,
        "camera": camera,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }


def absence(
    started_at: datetime,
    ended_at: datetime | None = None,
    *,
    window: str = "W01",
    camera: str = "cam-1",
    evidence: list[str] | None = None,
) -> dict[str, Any]:
    phase = "start" if ended_at is None else "end"
    return {
        "id": f"{window}:abs:{ms(started_at)}:{phase}",
        "kind": "absence",
        "phase": phase,
        "window": window,
        "camera": camera,
        "started_at": started_at.isoformat(),
        "ended_at": ended_at.isoformat() if ended_at else None,
        "evidence": evidence or [],
    }


def visitors(
    hour_start: datetime,
    visits: int,
    *,
    seated: float | None = None,
    window: str = "W01",
    watched_from_second: int = 0,
) -> dict[str, Any]:
    return {
        "id": f"{window}:vis:{int(hour_start.timestamp())}:{watched_from_second}",
        "watched_from_second": watched_from_second,
        "kind": "visitor_count",
        "window": window,
        "camera": "cam-1",
        "hour_start": hour_start.isoformat(),
        "visits": visits,
        "seated_seconds": seated if seated is not None else visits * 300.0,
    }


@cache
def astronaut_jpeg(width: int = 320) -> bytes:
    """A real photograph, scaled and JPEG-encoded by OpenCV as the edge does."""
    image = cv2.cvtColor(photos.astronaut(), cv2.COLOR_RGB2BGR)
    image = cv2.resize(image, (width, width * image.shape[0] // image.shape[1]), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return bytes(np.asarray(encoded).tobytes())


def evidence(
    at: datetime,
    *,
    window: str = "W01",
    jpeg: bytes | None = None,
    sha256: str | None = None,
    size: tuple[int, int] | None = None,
    reason: str = "absence_start",
) -> dict[str, Any]:
    body = astronaut_jpeg() if jpeg is None else jpeg
    width, height = size or (320, 320)
    return {
        "id": f"{window}:ev:{ms(at)}",
        "kind": "evidence",
        "at": at.isoformat(),
        "window": window,
        "camera": "cam-1",
        "reason": reason,
        "width": width,
        "height": height,
        "sha256": sha256 or hashlib.sha256(body).hexdigest(),
        "jpeg_base64": base64.b64encode(body).decode("ascii"),
    }


@cache
def webm(width: int = 320, height: int = 180, count: int = 10) -> bytes:
    """A real clip: moving stripes encoded by the edge's live VP8 encoder, muxed as the edge does."""
    encoder = Vp8Encoder(
        LiveProfileConfig(width=width, height=height, fps=5, bitrate_kbps=150), keyframe_interval_seconds=10
    )
    start = datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)
    frames = []
    for index in range(count):
        picture = np.zeros((height, width, 3), np.uint8)
        picture[:, (index * 16) % width :: 32] = 230
        encoded = encoder.encode(picture, seconds=index / 5, keyframe=False)
        assert encoded is not None
        at = start + timedelta(seconds=index / 5)
        frames.append(RingFrame(at, encoded.packet, encoded.keyframe, width, height))
    return make_clip(frames, profile="tile").webm


def clip(
    at: datetime,
    *,
    capture: str = "finding-12",
    data: bytes | None = None,
    sha256: str | None = None,
    size: tuple[int, int] = (320, 180),
    window: str = "W01",
) -> dict[str, Any]:
    body = webm() if data is None else data
    return {
        "id": f"pc:{ms(at)}:clip",
        "kind": "clip",
        "capture": capture,
        "at": at.isoformat(),
        "started_at": (at - timedelta(seconds=2)).isoformat(),
        "window": window,
        "camera": "cam-1",
        "width": size[0],
        "height": size[1],
        "frames": 10,
        "duration_ms": 1800,
        "sha256": sha256 or hashlib.sha256(body).hexdigest(),
        "webm_base64": base64.b64encode(body).decode("ascii"),
    }


def upload(client: TestClient, headers: dict[str, str], *items: dict[str, Any]) -> dict[str, Any]:
    """Through the real device endpoint, with a device key."""
    response = client.post(OBSERVATIONS, json={"observations": list(items)}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def outcomes(body: dict[str, Any]) -> list[str]:
    return [r["outcome"] for r in body["results"]]


def details(body: dict[str, Any]) -> list[str | None]:
    return [r["detail"] for r in body["results"]]
