"""What every window observation handler needs: the device's windows by code (one query per batch),
the clear rejection of an unknown one, and which camera watches each window."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.core.clock import to_utc
from central.devices.keys import DevicePrincipal
from central.devices.service import ItemOutcome
from central.registry.models import ServiceWindow
from central.video.models import WindowCamera

logger = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=5)  # edge clocks drift a little; more is a wrong clock


def in_future(now: datetime, moment: datetime) -> bool:
    """Whether a reported time lies further ahead of central's clock than clocks drift."""
    return moment > now + FUTURE_TOLERANCE


def device_windows(
    session: Session, *, device: DevicePrincipal, codes: Iterable[str]
) -> dict[str, ServiceWindow]:
    """The windows of the device's hall among `codes` (a device speaks only for its own hall)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    query = select(ServiceWindow).where(
        ServiceWindow.hall_id == device.hall_id, ServiceWindow.code.in_(wanted)
    )
    return {window.code: window for window in session.scalars(query)}


def unknown_window(device: DevicePrincipal, code: str) -> ItemOutcome:
    return ItemOutcome("rejected", f"no window {code} in hall {device.hall_code}")


def note_cameras(
    session: Session,
    *,
    device: DevicePrincipal,
    seen: dict[int, tuple[str, datetime]],
    live: dict[int, tuple[bool, bool | None, datetime | None]] | None = None,
) -> None:
    """Remember the camera of each window (window id → (camera, when)); a later sighting wins.
    `live` (window id → (staffed, seat taken, taken since)) comes with a camera's health report."""
    if not seen:
        return
    live = live or {}
    current = {
        row.window_id: row
        for row in session.scalars(select(WindowCamera).where(WindowCamera.window_id.in_(sorted(seen))))
    }
    for window_id, (camera, at) in seen.items():
        row = current.get(window_id)
        if row is None:
            row = WindowCamera(window_id=window_id, device_id=device.device_id, camera=camera, seen_at=at)
            session.add(row)
        elif to_utc(row.seen_at) <= at:
            row.device_id, row.camera, row.seen_at = device.device_id, camera, at
        else:
            continue
        if window_id in live:
            row.staffed, row.seat_taken, row.taken_since = live[window_id]


def latest_sightings(items: Iterable[tuple[int, str, datetime]]) -> dict[int, tuple[str, datetime]]:
    """(window id, camera, time) triples → the newest camera per window."""
    newest: dict[int, tuple[str, datetime]] = {}
    for window_id, camera, at in items:
        if window_id not in newest or newest[window_id][1] < at:
            newest[window_id] = (camera, at)
    return newest
