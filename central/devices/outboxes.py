"""Each edge agent's outbox disk as it last reported it (`common.device_channel.OutboxReport`).

A full outbox cannot carry the news of itself, so the agent reports its disk state outside it: in the
channel's pings and in the `X-Device-Outbox` header of its time sync (which runs on the long-poll
too). Central keeps the latest report per device (one row, upserted) for `hallwatch doctor`. The
report is device input: the contract's bounds have checked every field before it comes here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.core.db import conflict_insert
from central.devices.models import DeviceOutbox
from central.registry.models import Device
from common.device_channel import OutboxReport

logger = logging.getLogger(__name__)


def record_outbox(session: Session, *, device_id: int, report: OutboxReport, now: datetime) -> None:
    """Keep `report` as the device's latest (central's `now` as its time). One upsert, so two reports
    of one agent at once (a ping and a time sync) cannot collide. Does not commit."""
    since = None if report.since is None else datetime.fromtimestamp(report.since, UTC)
    values = {
        "state": report.state,
        "since": since,
        "free_bytes": report.free_bytes,
        "refused": report.refused,
        "refused_by_kind": json.dumps(report.refused_by_kind, sort_keys=True),
        "reported_at": now,
    }
    insert = conflict_insert(session)(DeviceOutbox).values(device_id=device_id, **values)
    session.execute(insert.on_conflict_do_update(index_elements=[DeviceOutbox.device_id], set_=values))
    if report.state != "ok":
        logger.warning(
            "device %d: its outbox disk is %s since %s (%d observation(s) refused, %.1f MB free)",
            device_id,
            report.state,
            since,
            report.refused,
            report.free_bytes / 2**20,
        )


@dataclass(frozen=True)
class OutboxState:
    """A stored report, read back."""

    state: str
    since: datetime | None
    free_bytes: int
    refused: int
    refused_by_kind: dict[str, int]
    reported_at: datetime


def read_state(row: DeviceOutbox) -> OutboxState:
    kinds = json.loads(row.refused_by_kind)  # written by record_outbox from a checked report
    return OutboxState(
        state=row.state,
        since=row.since,
        free_bytes=row.free_bytes,
        refused=row.refused,
        refused_by_kind={str(kind): int(count) for kind, count in kinds.items()},
        reported_at=row.reported_at,
    )


def latest_outboxes(session: Session) -> dict[int, OutboxState]:
    """Every reporting device's latest outbox state, by device id."""
    return {row.device_id: read_state(row) for row in session.scalars(select(DeviceOutbox))}


def outboxes_by_code(session: Session, *, codes: Collection[str]) -> dict[str, OutboxState]:
    """The latest outbox state of each of these devices that reported one, by device code."""
    if not codes:
        return {}
    rows = session.execute(
        select(Device.code, DeviceOutbox)
        .join(Device, Device.id == DeviceOutbox.device_id)
        .where(Device.code.in_(sorted(codes)))
    )
    return {code: read_state(row) for code, row in rows}
