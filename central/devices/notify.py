"""Wake a hall's long-polling edge agents when a device command is committed in this process.

`GET /api/v1/device/commands` waits on this signal and also re-reads the database every
`SLOW_POLL_SECONDS`, so commands committed by another central instance arrive within that time and
commands made here arrive at once. Neither holds a database connection while waiting: each look is
a fresh, short session. (Polling alone every 0.2 s would cost five queries a second per waiting edge
agent — thousands of halls make that a load; a notification costs nothing until a command exists.)
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

SLOW_POLL_SECONDS = 1.0
_PENDING = "hallwatch.command_halls"


class CommandSignal:
    """Per-hall wake-ups for waiters on any event loop, set from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def notify(self, hall_id: int) -> None:
        with self._lock:
            waiters = list(self._waiters.get(hall_id, ()))
        for loop, wake in waiters:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # that loop has closed; its waiter goes with it
                logger.debug("waiter of hall %d on a closed loop", hall_id)

    @contextmanager
    def waiter(self, hall_id: int) -> Iterator[asyncio.Event]:
        """An event set whenever a command for the hall is committed; call from the event loop."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(hall_id, set()).add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                waiters = self._waiters.get(hall_id)
                if waiters is not None:
                    waiters.discard(entry)
                    if not waiters:
                        del self._waiters[hall_id]


COMMAND_SIGNAL = CommandSignal()


def notify_after_commit(session: Session, hall_id: int) -> None:
    """Wake the hall's waiters once the session's transaction commits (not before: they would look
    too early and sleep until the next slow poll); a rollback forgets the hall."""
    pending: set[int] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = set()
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)
    pending.add(hall_id)


def _after_commit(session: Session) -> None:
    pending: set[int] = session.info.get(_PENDING, set())
    halls = sorted(pending)
    pending.clear()
    for hall_id in halls:
        COMMAND_SIGNAL.notify(hall_id)


def _after_rollback(session: Session) -> None:
    session.info.get(_PENDING, set()).clear()
