"""Shared by the live view tests: inspectors of two jurisdictions, a post user, cameras as central
last heard of them, and an SDP offer of the shape browsers send."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.registry.models import Device, ServiceWindow
from central.video.models import CameraState, WindowCamera
from tests.conftest import FakeClock, SignedIn, make_user

OFFER = "/api/v1/live/offer"
PROVINCIAL = "510000-ZWFW"
COUNTY = "510104-ZWFW"
# What a browser offers to receive one video track (trimmed: no candidates); central relays, the
# edge parses.
SDP = (
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
)


@pytest.fixture
def people(db: Engine, clock: FakeClock, registry: dict[str, int]) -> dict[str, SignedIn]:
    """prov, prov2: provincial inspectors; county: the county's inspector (not the provincial hall's);
    clerk: a post user of a department of the provincial hall."""
    made = {
        "prov": make_user(db, "prov", role=Role.INSPECTOR, scope="region:510000", now=clock()),
        "prov2": make_user(db, "prov2", role=Role.INSPECTOR, scope="region:510000", now=clock()),
        "county": make_user(db, "county", role=Role.INSPECTOR, scope="region:510104", now=clock()),
        "clerk": make_user(db, "clerk", role=Role.POST_USER, scope="department:SCJGJ", now=clock()),
    }
    return {name: SignedIn(name, password) for name, password in made.items()}


def camera(
    session: Session,
    *,
    device: str,
    name: str,
    at: datetime,
    online: bool = True,
    windows: tuple[str, ...] = (),
) -> None:
    """The camera's state as its agent last reported it, watching `windows` (codes of its hall)."""
    found = session.scalar(select(Device).where(Device.code == device))
    assert found is not None and found.hall_id is not None
    session.add(
        CameraState(
            device_id=found.id,
            hall_id=found.hall_id,
            camera=name,
            online=online,
            fps=10.0,
            width=640,
            height=360,
            reconnects=0,
            last_frame_at=at,
            detail=None if online else "no frames",
            observation_id=f"health:{name}:{at.isoformat()}",
            reported_at=at,
        )
    )
    for code in windows:
        window = session.scalar(
            select(ServiceWindow).where(ServiceWindow.code == code, ServiceWindow.hall_id == found.hall_id)
        )
        assert window is not None
        session.add(WindowCamera(window_id=window.id, device_id=found.id, camera=name, seen_at=at))
    session.commit()


def offer(
    hall: str = PROVINCIAL, camera: str = "CAM-1", profile: str = "tile", sdp: str = SDP
) -> dict[str, str]:
    return {"hall": hall, "camera": camera, "profile": profile, "sdp": sdp}
