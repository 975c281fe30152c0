"""Shared by the patrol tests: a live view as central stores it, and the edge's report of one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.models import User
from central.access.roles import Role
from central.live.models import LiveView
from tests.conftest import make_user


def live_view_row(session: Session, engine: Engine, *, hall_id: int, viewer: str, at: datetime) -> LiveView:
    """A view central asked the hall's agent for (and the agent answered), by a new inspector; committed."""
    make_user(engine, f"watcher-{viewer}", role=Role.INSPECTOR, scope="*", now=at)
    user = session.scalar(select(User).where(User.username == f"watcher-{viewer}"))
    assert user is not None
    view = LiveView(
        viewer=viewer,
        hall_id=hall_id,
        camera="CAM-1",
        profile="tile",
        user_id=user.id,
        command_id=1,
        started_at=at,
        outcome="answered",
    )
    session.add(view)
    session.commit()
    return view


def live_view(
    viewer: str,
    start: datetime,
    *,
    seconds: float = 10,
    frames: int = 50,
    packets: int = 100,
    camera: str = "CAM-1",
) -> dict[str, Any]:
    """The edge's `live_view` observation of an ended view."""
    return {
        "id": f"live:{viewer}",
        "kind": "live_view",
        "viewer": viewer,
        "camera": camera,
        "profile": "tile",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=seconds + 1)).isoformat(),
        "first_frame_at": start.isoformat(),
        "last_frame_at": (start + timedelta(seconds=seconds)).isoformat(),
        "frames_sent": frames,
        "keyframes_sent": 1,
        "packets_sent": packets,
        "bytes_sent": packets * 900,
    }
