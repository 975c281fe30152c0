"""Each central process keeps one `HallFeed` per hall that has watchers: the hall's recent changes as
ready-to-send Server-Sent Events bytes, fetched from the database once per change for all of them.

Cheap to serve, whatever the number of screens: a change costs this process one query (woken by the
NOTIFY of `central.public.publish`, from any instance), one encoding, and then for each watcher a
wake-up and a write of bytes already made. Watchers wait on one shared `asyncio.Event` per generation
(no queue per watcher); a watcher that falls further behind than the ring keeps gets a snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from central.core.clock import Clock
from central.core.db_errors import DATABASE_AWAY, first_line
from central.devices.notifier import PUBLIC_FEED, Notifier
from central.public.snapshot import (
    SnapshotParts,
    StoredChanges,
    changes_after,
    first_kept_seq,
    last_seq,
    snapshot_of,
)

logger = logging.getLogger(__name__)

RING_SIZE = 4096  # changes kept in memory per hall: a reconnect within them needs no query
KEEPALIVE_SECONDS = 15.0
LINGER_SECONDS = 30.0  # a hall left without watchers keeps its feed this long (screens reconnect)
KEEPALIVE = b": keep-alive\n\n"
T = TypeVar("T")


def encode(seq: int, name: str, data: str) -> bytes:
    """One SSE message; `data` is one line of JSON (json never emits a raw newline)."""
    return f"id: {seq}\nevent: {name}\ndata: {data}\n\n".encode()


class HallFeed:
    """The recent changes of one hall in this process, and the watchers waiting for the next."""

    def __init__(self, hall_id: int, *, feeds: FeedHub) -> None:
        self.hall_id = hall_id
        self._feeds = feeds
        self.last_seq = 0
        self._base = 1  # the change number of _ring[0]
        self._ring: list[bytes] = []
        self.changed = asyncio.Event()
        self.keepalive_round = 0
        self.watchers = 0
        self.ready = asyncio.Event()
        self._snapshot: SnapshotParts | None = None
        self._snapshot_lock = asyncio.Lock()
        self._fetch_lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None

    # --- what watchers read ----------------------------------------------------------------------
    def after(self, cursor: int) -> bytes | None:
        """The messages after change `cursor` (b"" when none); None when the ring no longer has them."""
        if cursor >= self.last_seq:
            return b""
        start = cursor + 1 - self._base
        if start < 0:
            return None
        if start == len(self._ring) - 1:
            return self._ring[start]
        return b"".join(self._ring[start:])

    async def snapshot(self) -> SnapshotParts:
        """The hall's state, built once per change number for every watcher that needs it; never older
        than what the database held when asked (the NOTIFY of a change may not have arrived yet)."""
        if await self._feeds.run(last_seq, self.hall_id) > self.last_seq:
            await self.refresh()
        async with self._snapshot_lock:
            if self._snapshot is None or self._snapshot.seq < self.last_seq:
                self._snapshot = await self._feeds.run(self._feeds.build_snapshot, self.hall_id)
            return self._snapshot

    async def stored_after(self, cursor: int) -> StoredChanges:
        return await self._feeds.run(
            lambda session: changes_after(session, hall_id=self.hall_id, after=cursor, limit=RING_SIZE)
        )

    # --- the pump ----------------------------------------------------------------------------------
    async def run(self) -> None:
        idle_since: float | None = None
        loop = asyncio.get_running_loop()
        with self._feeds.notifier.subscribe(PUBLIC_FEED, str(self.hall_id)) as subscription:
            await self._load()
            self.ready.set()
            next_keepalive = loop.time() + KEEPALIVE_SECONDS
            while True:
                wait = min(next_keepalive - loop.time(), self._feeds.notifier.reread_seconds)
                await subscription.wait(wait)
                subscription.wake.clear()
                await self.refresh()
                if loop.time() >= next_keepalive:
                    self.keepalive_round += 1
                    self._wake()
                    next_keepalive = loop.time() + KEEPALIVE_SECONDS
                if self.watchers:
                    idle_since = None
                elif idle_since is None:
                    idle_since = loop.time()
                elif loop.time() - idle_since >= LINGER_SECONDS:
                    break
        self._feeds.forget(self)

    async def _load(self) -> None:
        """The last ring's worth of stored changes: resumes within them need no query."""
        while True:
            try:
                first = await self._feeds.run(first_kept_seq, self.hall_id)
                head = await self._feeds.run(last_seq, self.hall_id)
                start = max(first or head + 1, head - RING_SIZE + 1)
                self._base, self.last_seq = start, start - 1
                await self.refresh()
                return
            except Exception:  # the database is down at start: keep trying, watchers wait
                logger.warning(
                    "public feed of hall %s: cannot load its changes yet", self.hall_id, exc_info=True
                )
                await asyncio.sleep(self._feeds.notifier.reread_seconds)

    async def refresh(self) -> None:
        """Fetch and publish to watchers the changes stored after the last one here."""
        async with self._fetch_lock:
            try:
                stored = await self.stored_after(self.last_seq)
            except DATABASE_AWAY as exc:  # a restart: one line, the next notification or re-read tries again
                logger.warning(
                    "public feed of hall %s: not fetched, the database is away (%s)",
                    self.hall_id,
                    first_line(exc),
                )
                return
            except Exception:
                logger.warning("public feed of hall %s: fetch failed", self.hall_id, exc_info=True)
                return
            if not stored.entries:
                return
            for seq, name, data in stored.entries:
                if seq != self.last_seq + 1:  # pruned past us, or restored to an older copy: start over
                    logger.info(
                        "public feed of hall %s: jump from %d to %d", self.hall_id, self.last_seq, seq
                    )
                    self._ring, self._base = [], seq
                self._ring.append(encode(seq, name, data))
                self.last_seq = seq
            if len(self._ring) > 2 * RING_SIZE:
                drop = len(self._ring) - RING_SIZE
                self._ring, self._base = self._ring[drop:], self._base + drop
            self._wake()
        if len(stored.entries) == RING_SIZE:  # more waiting
            await self.refresh()

    def _wake(self) -> None:
        event, self.changed = self.changed, asyncio.Event()
        event.set()


class FeedHub:
    """This process's hall feeds (one per app), started by the first watcher of a hall."""

    def __init__(self, *, factory: sessionmaker[Session], notifier: Notifier, clock: Clock) -> None:
        self._factory = factory
        self.notifier = notifier
        self._clock = clock
        self._feeds: dict[int, HallFeed] = {}

    async def run(self, work: Callable[[Session], T] | Callable[..., T], *args: object) -> T:
        def call() -> T:
            with self._factory() as session:
                return work(session, *args)

        return await to_thread.run_sync(call)

    def build_snapshot(self, session: Session, hall_id: int) -> SnapshotParts:
        return snapshot_of(session, hall_id, now=self._clock())

    async def join(self, hall_id: int) -> HallFeed:
        """The hall's feed, started if needed, counted as watched until `leave`, once it has loaded
        its recent changes."""
        feed = self._feeds.get(hall_id)
        if feed is None or feed.task is None or feed.task.done():
            feed = self._feeds[hall_id] = HallFeed(hall_id, feeds=self)
            feed.task = asyncio.get_running_loop().create_task(feed.run(), name=f"public-feed-{hall_id}")
        feed.watchers += 1
        try:
            await feed.ready.wait()
        except BaseException:
            feed.watchers -= 1
            raise
        return feed

    @staticmethod
    def leave(feed: HallFeed) -> None:
        feed.watchers -= 1

    def forget(self, feed: HallFeed) -> None:
        if self._feeds.get(feed.hall_id) is feed:
            del self._feeds[feed.hall_id]

    def feeds(self) -> list[HallFeed]:
        return list(self._feeds.values())

    async def close(self) -> None:
        tasks = [feed.task for feed in self._feeds.values() if feed.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._feeds.clear()
