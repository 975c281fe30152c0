"""Device commands for a hall's edge agent (keypads.md: GET /api/v1/device/commands).

`fetch_commands` is one short read; `wait_for_commands` is the long-poll around it: it waits on the
app's `Notifier` (woken when a command for the hall is committed on any instance) without holding a
database connection; each look is a fresh, short session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from central.devices.command_kinds import stored_command
from central.devices.models import DeviceCommand
from central.devices.notifier import COMMANDS, Notifier
from common.contract import CommandPage

logger = logging.getLogger(__name__)

PAGE_LIMIT = 100


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
    commands = [command for command in map(stored_command, rows) if command is not None]
    cursor = rows[-1].id if len(rows) == PAGE_LIMIT else newest
    return CommandPage(commands=commands, cursor=cursor)


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
