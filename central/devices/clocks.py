"""Each agent's own clock against central's, measured when the agent asks for the time.

An edge agent keeps its stamps to central's clock (`edge.clock.CentralTime`), so a box whose clock is
off still stamps presses and video right; but the box itself is still wrong (its logs, its recordings'
file times, TLS certificate checks), and nobody at central would know. So the agent sends its own
clock's reading with each `GET /device/time` (`X-Device-Clock`), central keeps the difference from its
own clock (one row per device, the latest), and `hallwatch doctor` names the boxes beyond a threshold.
The request's one-way trip makes the box look that much behind: milliseconds on a hall's network.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.core.db import conflict_insert
from central.devices.models import DeviceClock

logger = logging.getLogger(__name__)

REPORT_SKEW_SECONDS = 5.0  # a box this far off is logged when measured


def record_clock(session: Session, *, device_id: int, device_clock: datetime, now: datetime) -> float:
    """Keep how far the device's clock is from `now` (central's); answers the skew in seconds (> 0:
    the device runs ahead). One upsert, so two requests of one agent at once cannot collide. Does not
    commit."""
    skew = (device_clock - now).total_seconds()
    values = {"device_id": device_id, "skew_seconds": skew, "measured_at": now}
    insert = conflict_insert(session)(DeviceClock).values(**values)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[DeviceClock.device_id],
            set_={"skew_seconds": skew, "measured_at": now},
        )
    )
    if abs(skew) >= REPORT_SKEW_SECONDS:
        logger.warning("device %d: its clock is %.1f s %s central's", device_id, abs(skew), _side(skew))
    return skew


def latest_clocks(session: Session) -> dict[int, DeviceClock]:
    """Every measured device's latest clock row, by device id."""
    return {row.device_id: row for row in session.scalars(select(DeviceClock))}


def _side(skew: float) -> str:
    return "ahead of" if skew > 0 else "behind"
