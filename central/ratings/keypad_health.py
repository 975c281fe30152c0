"""Keypad health as the edge agents last reported it (online, last heartbeat, error counts), for the
ratings dashboard: a keypad offline or silent is itself worth an inspector's look (SC-5(5))."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.ratings.models import KeypadHealth
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Device, Hall, ServiceWindow

logger = logging.getLogger(__name__)

SILENT_AFTER = timedelta(minutes=5)  # agents report every minute or so; longer means the agent is gone


@dataclass(frozen=True)
class KeypadRow:
    hall: str
    window: str | None
    keypad: str
    online: bool
    silent: bool  # no report for SILENT_AFTER: shown as offline whatever the last report said
    firmware: str | None
    last_heartbeat_at: datetime | None
    bad_frames: int
    reconnects: int
    reported_at: datetime


def keypad_rows(session: Session, *, within: Jurisdiction, now: datetime) -> list[KeypadRow]:
    query = (
        select(KeypadHealth, Hall.name, ServiceWindow.code)
        .join(Device, Device.id == KeypadHealth.device_id)
        .join(Hall, Hall.id == Device.hall_id)
        .outerjoin(ServiceWindow, ServiceWindow.id == KeypadHealth.window_id)
        .where(within.clause(hall_id=Device.hall_id, department_id=ServiceWindow.department_id))
        .order_by(Hall.code, ServiceWindow.code, KeypadHealth.keypad)
    )
    rows = []
    for health, hall_name, window_code in session.execute(query):
        silent = now - health.reported_at > SILENT_AFTER
        rows.append(
            KeypadRow(
                hall=hall_name,
                window=window_code,
                keypad=health.keypad,
                online=health.online and not silent,
                silent=silent,
                firmware=health.firmware,
                last_heartbeat_at=health.last_heartbeat_at,
                bad_frames=health.bad_frames,
                reconnects=health.reconnects,
                reported_at=health.reported_at,
            )
        )
    return rows
