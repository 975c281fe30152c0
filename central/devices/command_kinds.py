"""The command kinds (`common.contract.commands`) as central stores them: one `DeviceCommand` row a
command, its kind in `kind` and its payload as JSON in `payload`. `queue_command` is the one way a
domain asks a hall's agents to do something; `stored_command` reads a row back into the contract's
union for the long-poll (and the agents' channel)."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from central.devices.models import DeviceCommand
from central.devices.notifier import notify_after_commit
from common.contract import Command, CommandPayload

logger = logging.getLogger(__name__)

_COMMAND: TypeAdapter[Command] = TypeAdapter(Command)
_LOCK_SPACE = 14_0001  # pg_advisory_xact_lock's first key: this lock's space (the second is the hall)


def queue_command(
    session: Session, *, hall_id: int, command: CommandPayload, expires_at: datetime, now: datetime
) -> DeviceCommand:
    """Add the command for the hall's agents (flushed: its id is known) and wake the hall's agents on
    every instance when the caller commits. Does not commit.

    The cursor is a command id, so a hall's ids must become visible in id order: on PostgreSQL two
    transactions could take ids 100 and 101 and commit 101 first, and an agent reading in between
    would move its cursor past 100 for good. A per-hall transaction lock, taken before the id, makes
    a hall's commands commit in id order (commands of one hall are few; other halls do not wait).
    SQLite has one writer at a time already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :hall)"), {"space": _LOCK_SPACE, "hall": hall_id}
        )
    row = DeviceCommand(
        hall_id=hall_id,
        kind=command.KIND,
        payload=json.dumps(command.model_dump(mode="json"), ensure_ascii=False),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    notify_after_commit(session, hall_id)
    return row


def stored_command(row: DeviceCommand) -> Command | None:
    """The row as the contract's command; None (logged) for a row this central cannot send: a kind it
    does not know or a payload that does not fit its kind (written by another version, or by hand).
    Skipping it keeps the hall's other commands flowing instead of failing the whole page."""
    try:
        payload = json.loads(row.payload)
        if not isinstance(payload, dict):
            raise ValueError(f"the payload is a JSON {type(payload).__name__}, not an object")
        return _COMMAND.validate_python(
            {**payload, "id": row.id, "kind": row.kind, "expires_at": row.expires_at}
        )
    except (ValueError, ValidationError) as exc:  # json.JSONDecodeError is a ValueError
        logger.error("device command %d (kind %r) cannot be sent, skipped: %s", row.id, row.kind, exc)
        return None
