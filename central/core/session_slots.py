"""Request sessions, bounded: at most `slots` requests hold a database session at once.

Why: a sync endpoint and its sync dependencies run as separate worker-thread steps, and a request
keeps its pooled connection between them (the device key is looked up in one step, the batch stored
in another). With more such requests in flight than the pool has connections, every worker thread
ended up waiting for a connection held by a request that waited for a thread: central wedged in the
soak's failover burst (bench/soak.py). A slot is taken on the event loop before the session opens,
so a request waiting for its turn holds neither a connection nor a thread; with fewer slots than
pooled connections, a thread that waits for a connection always waits for one that comes back.

A request that waits for something else (an agent's answer, a long-poll) gives its slot back for the
wait (`released`, `give_back`). A request that finds no slot within `wait_seconds` is answered 503 with Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from fastapi import HTTPException
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

_SLOT = "hallwatch.session_slot"  # Session.info key: the slot the session holds


class SessionsBusy(HTTPException):
    def __init__(self, wait_seconds: float) -> None:
        super().__init__(
            503,
            f"数据库繁忙，请稍后重试 (database busy: no free session within {wait_seconds:g} s, try again)",
            headers={"Retry-After": "1"},
        )


@dataclass
class _Held:
    slots: SessionSlots
    held: bool = False


@dataclass(eq=False)
class SessionSlots:
    """The app's request sessions: `slots` at once, a newcomer waits up to `wait_seconds`."""

    slots: int
    wait_seconds: float
    # One semaphore per event loop (a test client may run several loops over one app).
    _semaphores: RunVar[anyio.Semaphore] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.slots < 1:
            raise ValueError(f"a session needs at least 1 slot, not {self.slots}")
        self._semaphores = RunVar(f"session_slots_{id(self)}")

    def _semaphore(self) -> anyio.Semaphore:
        semaphore = self._semaphores.get(None)
        if semaphore is None:
            semaphore = anyio.Semaphore(self.slots)
            self._semaphores.set(semaphore)
        return semaphore

    async def _take(self, held: _Held) -> None:
        with anyio.move_on_after(self.wait_seconds):
            await self._semaphore().acquire()
            held.held = True
            return
        logger.warning("no request session free within %g s (%d slots): 503", self.wait_seconds, self.slots)
        raise SessionsBusy(self.wait_seconds)

    def _give_back(self, held: _Held) -> None:
        if held.held:
            held.held = False
            self._semaphore().release()

    @asynccontextmanager
    async def session(self, factory: sessionmaker[Session]) -> AsyncIterator[Session]:
        """The request's session (a FastAPI dependency body): a slot first, then the session."""
        held = _Held(self)
        await self._take(held)
        try:
            with factory(info={_SLOT: held}) as session:
                try:
                    yield session
                finally:
                    await close_off_the_loop(session)
        finally:
            self._give_back(held)


async def close_off_the_loop(session: Session) -> None:
    """Close a session; if it holds a connection, in a thread of its own (as FastAPI ends a sync
    dependency): giving a connection back must never wait for one of the worker threads."""
    if not session.in_transaction():
        session.close()  # no connection: nothing to give back, no I/O
        return
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))


async def give_back(session: Session) -> _Held | None:
    """Close the request's session and give its slot back: the request is done with the database, or
    waits for something else (an agent's answer, a long-poll). The held slot, if any, is answered."""
    await close_off_the_loop(session)
    held = session.info.get(_SLOT)
    if not isinstance(held, _Held):
        return None  # a session from no slot (a job, a test)
    held.slots._give_back(held)
    return held


@asynccontextmanager
async def released(session: Session) -> AsyncIterator[None]:
    """Without a connection or a slot while the block waits; a slot is taken again after it (the
    session reconnects when next used)."""
    held = await give_back(session)
    try:
        yield
    finally:
        if held is not None:
            await held.slots._take(held)
