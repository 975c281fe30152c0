"""Device commands for a hall's edge agent (keypads.md: GET /api/v1/device/commands).

`fetch_commands` is one short read; `wait_for_commands` is the long-poll around it: it waits on the
app's `Notifier` (woken when a command for the hall is committed on any instance) without holding a
database connection; each look is a fresh, short session.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from central.devices.models import DeviceCommand
from central.devices.notifier import COMMANDS, Notifier, notify_after_commit
from central.devices.schemas import CommandOut, CommandPage

logger = logging.getLogger(__name__)

PAGE_LIMIT = 100
_LOCK_SPACE = 14_0001  # pg_advisory_xact_lock's first key: this lock's space (the second is the hall)


def queue_command(
    session: Session, *, hall_id: int, kind: str, payload: str, now: datetime, expires_at: datetime
) -> DeviceCommand:
    """Add a command for the hall (flushed: it has its id); its agents are woken when the caller
    commits.

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
    command = DeviceCommand(
        hall_id=hall_id, kind=kind, payload=payload, created_at=now, expires_at=expires_at
    )
    session.add(command)
    session.flush()
    notify_after_commit(session, hall_id)
    return command


def fetch_commands(session: Session, *, hall_id: int, after: int, now: datetime) -> CommandPage:
    """The hall's unexpired commands with id > after, oldest first (at most PAGE_LIMIT).

    The cursor is the last command returned when the page is full, else the hall's newest command id
    read before the page (commands in between were expired): the edge agent never re-reads them, and
    a command committed while this runs has a higher id and comes next time.
    """
    newest = session.scalar(select(func.max(DeviceCommand.id)).where(DeviceCommand.hall_id == hall_id))
    if newest is None or newest <= after:
        return CommandPage(commands=[], cursor=after)
    rows = session.scalars(
        select(DeviceCommand)
        .where(
            DeviceCommand.hall_id == hall_id,
            DeviceCommand.id > after,
            DeviceCommand.id <= newest,
            DeviceCommand.expires_at > now,
        )
        .order_by(DeviceCommand.id)
        .limit(PAGE_LIMIT)
    ).all()
    commands = [_command_out(row) for row in rows]
    cursor = rows[-1].id if len(rows) == PAGE_LIMIT else newest
    return CommandPage(commands=commands, cursor=cursor)


def _command_out(row: DeviceCommand) -> CommandOut:
    payload = json.loads(row.payload)
    return CommandOut(
        id=row.id,
        kind="prompt",
        window=payload["window"],
        case_no=payload["case_no"],
        staff_name=payload.get("staff_name"),
        staff_no=payload.get("staff_no"),
        text=payload.get("text", "请评价"),
        expires_at=row.expires_at,
    )


async def wait_for_commands(
    factory: sessionmaker[Session],
    clock: Callable[[], datetime],
    notifier: Notifier,
    *,
    hall_id: int,
    after: int,
    wait: float,
) -> CommandPage:
    """Answer as soon as the hall has a command past `after`, else after `wait` seconds with none."""
    if wait <= 0:
        return await run_in_threadpool(look, factory, hall_id=hall_id, after=after, now=clock())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    # subscribed before the first look: a command committed after it wakes this waiter
    with notifier.subscribe(COMMANDS, str(hall_id)) as commands:
        while True:
            commands.wake.clear()
            page = await run_in_threadpool(look, factory, hall_id=hall_id, after=after, now=clock())
            left = deadline - loop.time()
            if page.commands or left <= 0:
                return page
            await commands.wait(min(notifier.reread_seconds, left))


def look(factory: sessionmaker[Session], *, hall_id: int, after: int, now: datetime) -> CommandPage:
    with factory() as session:
        return fetch_commands(session, hall_id=hall_id, after=after, now=now)
