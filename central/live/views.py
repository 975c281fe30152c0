"""Finding what may be watched: a hall in the caller's jurisdiction, its cameras with the windows
they watch and whether they are online now (as central last heard from the hall's agent)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.live.schemas import LiveCameraOut, WindowRef
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Device, Hall, ServiceWindow
from central.video.models import CameraState, WindowCamera
from central.video.queries import SILENT_AFTER, camera_clause, window_clause

logger = logging.getLogger(__name__)

OFFLINE = "摄像机离线"
ONLINE = "在线"


class LiveRefused(Exception):
    """A view central will not relay: an HTTP status and an English detail (zh where the page shows it)."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code, self.detail = status_code, detail


@dataclass(frozen=True)
class Camera:
    device_id: int
    device_code: str
    name: str
    online: bool
    reported_at: datetime


def find_hall(session: Session, *, code: str, within: Jurisdiction) -> Hall:
    """The hall, or 404 alike for one that does not exist and one outside the jurisdiction."""
    hall = session.scalar(select(Hall).where(Hall.code == code))
    if hall is None or not within.includes_hall(hall.id):
        raise LiveRefused(404, f"no hall {code[:40]} in your jurisdiction")
    return hall


def hall_cameras(session: Session, *, hall: Hall, within: Jurisdiction, now: datetime) -> list[Camera]:
    """The hall's cameras as its agents last reported them; silent for SILENT_AFTER is offline too."""
    rows = session.execute(
        select(CameraState, Device.code)
        .join(Device, Device.id == CameraState.device_id)
        .where(CameraState.hall_id == hall.id, camera_clause(within))
        .order_by(CameraState.camera, Device.code)
    ).all()
    return [
        Camera(
            device_id=state.device_id,
            device_code=code,
            name=state.camera,
            online=state.online and now - state.reported_at <= SILENT_AFTER,
            reported_at=state.reported_at,
        )
        for state, code in rows
    ]


def find_camera(session: Session, *, hall: Hall, name: str, within: Jurisdiction, now: datetime) -> Camera:
    """The named camera, online now: 404 for one central never heard of, 409 (摄像机离线) when offline."""
    found = [c for c in hall_cameras(session, hall=hall, within=within, now=now) if c.name == name]
    if not found:
        raise LiveRefused(404, f"no camera {name[:40]} in hall {hall.code}")
    online = [c for c in found if c.online]  # two agents naming a camera alike: the one that is up
    if not online:
        raise LiveRefused(409, f"{OFFLINE}: camera {name} of hall {hall.code} sends no frames")
    return online[0]


def live_cameras(session: Session, *, hall: Hall, within: Jurisdiction, now: datetime) -> list[LiveCameraOut]:
    """Each camera with the windows it watches (those the caller may see), for the patrol grid."""
    watched: dict[tuple[int, str], list[WindowRef]] = defaultdict(list)
    for device_id, camera, code, name in session.execute(
        select(WindowCamera.device_id, WindowCamera.camera, ServiceWindow.code, ServiceWindow.name)
        .join(ServiceWindow, ServiceWindow.id == WindowCamera.window_id)
        .where(ServiceWindow.hall_id == hall.id, window_clause(within))
        .order_by(ServiceWindow.code)
    ):
        watched[(device_id, camera)].append(WindowRef(code=code, name=name))
    return [
        LiveCameraOut(
            camera=c.name,
            device=c.device_code,
            online=c.online,
            state_label=ONLINE if c.online else OFFLINE,
            reported_at=c.reported_at,
            windows=watched.get((c.device_id, c.name), []),
        )
        for c in hall_cameras(session, hall=hall, within=within, now=now)
    ]
