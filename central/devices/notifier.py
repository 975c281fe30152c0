"""Change notifications within and across central instances, by topic and key (e.g. hall id).

One `Notifier` per app (built in the app factory, stopped in its lifespan). Waiters subscribe to a
(topic, key) pair and get an `asyncio.Event` set whenever something is published to it, on any
instance:

- PostgreSQL: a publish is `NOTIFY hallwatch_<topic>, '<key>[ <data>]'` sent inside the committing
  transaction (PostgreSQL delivers it only on commit, and drops it on rollback); each process keeps one
  LISTEN connection (`central.devices.pg_listener`) that dispatches to its local waiters. When that
  connection comes back after a drop, every waiter is woken once (what was published meanwhile is lost,
  so everyone re-reads).
- SQLite: in process only, from the session's after_commit hook (one process per SQLite file).

Topics today: `commands` (key: hall id) wakes a hall's command long-polls and channels,
`device_key_revoked` (key: key id) closes that key's channels, `replies` (key: command id, data: the
reply) relays a device's reply to the instance waiting for it, `public_feed` (key: hall id, data: its
last change number) wakes the hall display feed's subscribers (central.public.hub).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from central.devices.pg_listener import PgListener

logger = logging.getLogger(__name__)

COMMANDS = "commands"
KEY_REVOKED = "device_key_revoked"
REPLIES = "replies"
PUBLIC_FEED = "public_feed"  # key: hall id, data: the hall's last change number (central.public)
TOPICS = (COMMANDS, KEY_REVOKED, REPLIES, PUBLIC_FEED)
CHANNEL_PREFIX = "hallwatch_"
# With LISTEN up a waiter still re-reads this often: a belt for a notification lost in a way not
# foreseen (a NOTIFY queue overflow, a bug); cheap at this rate even for thousands of halls.
SAFETY_REREAD_SECONDS = 30.0
# With LISTEN down (PostgreSQL restarting, a network cut) nothing else would wake waiters: re-read
# often enough that commands keep flowing, seldom enough not to load a database that is struggling.
DOWN_REREAD_SECONDS = 3.0
MAX_DATA_BYTES = 7000  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
_PENDING = "hallwatch.notify_pending"
_LOCAL: dict[str, weakref.WeakSet[Notifier]] = {}  # SQLite: the notifiers of each database, by URL
_LOCAL_LOCK = threading.Lock()


class Subscription:
    """What a waiter holds: an event set on each publish (on its own loop) and the data published."""

    def __init__(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Event | None = None) -> None:
        self.loop = loop
        self.wake = wake or asyncio.Event()
        self.fired = False  # something was published to it
        self.stale = False  # publishes may have been lost (LISTEN came back): re-read to be sure
        self.messages: deque[str] = deque(maxlen=64)

    def _deliver(self, data: str | None) -> None:
        self.fired = True
        if data is not None:
            self.messages.append(data)
        self.wake.set()

    def _mark_stale(self) -> None:
        self.stale = True
        self.wake.set()

    async def wait(self, timeout: float) -> bool:
        """Wait until woken or `timeout` seconds pass; answers whether woken."""
        try:
            await asyncio.wait_for(self.wake.wait(), timeout=max(0.0, timeout))
        except TimeoutError:
            return False
        return True


def _url_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


class Notifier:
    def __init__(self, engine: Engine, *, topics: tuple[str, ...] = TOPICS) -> None:
        self.engine = engine
        self.topics = topics
        self.postgresql = engine.dialect.name == "postgresql"
        self._lock = threading.Lock()
        self._subscriptions: dict[tuple[str, str], set[Subscription]] = {}
        self._watchers: dict[str, list[Callable[[str], None]]] = {}
        self._listener: PgListener | None = None
        self._stopped = False
        with _LOCAL_LOCK:
            _LOCAL.setdefault(_url_key(engine), weakref.WeakSet()).add(self)

    def start(self) -> None:
        """Open the LISTEN connection on PostgreSQL (idempotent; `subscribe` calls it too, for apps
        served without a lifespan)."""
        if not self.postgresql or self._stopped:
            return
        with self._lock:
            if self._listener is not None:
                return
            url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._listener = PgListener(
                url,
                [CHANNEL_PREFIX + topic for topic in self.topics],
                owner=weakref.ref(self),
            )
        self._listener.start()

    def stop(self) -> None:
        self._stopped = True
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()

    @property
    def listening(self) -> bool:
        """Whether publishes from every instance reach this one now (always, in process on SQLite)."""
        if not self.postgresql:
            return True
        listener = self._listener
        return listener is not None and listener.connected.is_set()

    @property
    def generation(self) -> int | None:
        """Which LISTEN connection hears every instance's publishes now (None: none does, or SQLite,
        where another process's publishes are never heard). A new one means some may have been lost."""
        listener = self._listener if self.postgresql else None
        if listener is None or not listener.connected.is_set():
            return None
        return listener.connects

    def watch(self, topic: str, callback: Callable[[str], None]) -> None:
        """Call `callback(key)` on every publish to `topic`, from the thread that hears it."""
        with self._lock:
            self._watchers.setdefault(topic, []).append(callback)

    def wait_listening(self, timeout: float) -> bool:
        """Block until publishes from every instance reach this one (tests, benchmarks)."""
        self.start()
        listener = self._listener
        if listener is None:
            return not self.postgresql
        return listener.connected.wait(timeout)

    @property
    def reread_seconds(self) -> float:
        """How long a waiter may sleep before it re-reads the database by itself."""
        return SAFETY_REREAD_SECONDS if self.listening else DOWN_REREAD_SECONDS

    @contextmanager
    def subscribe(self, topic: str, key: str, *, wake: asyncio.Event | None = None) -> Iterator[Subscription]:
        """Call from the event loop; registered before the caller's first look, so nothing published
        after that look is missed. Subscriptions may share one `wake` event."""
        if topic not in self.topics:
            raise ValueError(f"unknown topic {topic!r}; the notifier listens to {self.topics}")
        self.start()
        entry = Subscription(asyncio.get_running_loop(), wake)
        with self._lock:
            self._subscriptions.setdefault((topic, key), set()).add(entry)
        try:
            yield entry
        finally:
            with self._lock:
                entries = self._subscriptions.get((topic, key))
                if entries is not None:
                    entries.discard(entry)
                    if not entries:
                        del self._subscriptions[(topic, key)]

    def has_subscribers(self, topic: str, key: str) -> bool:
        with self._lock:
            return bool(self._subscriptions.get((topic, key)))

    def dispatch(self, topic: str, key: str, data: str | None = None) -> None:
        """Wake the local subscribers of (topic, key); from any thread."""
        with self._lock:
            entries = list(self._subscriptions.get((topic, key), ()))
            watchers = list(self._watchers.get(topic, ()))
        for watcher in watchers:
            watcher(key)
        for entry in entries:
            _call_soon(entry, data)

    def dispatch_payload(self, channel: str, payload: str) -> None:
        """A NOTIFY received by the LISTEN connection."""
        topic = channel.removeprefix(CHANNEL_PREFIX)
        key, _, data = payload.partition(" ")
        self.dispatch(topic, key, data or None)

    def wake_all(self) -> None:
        """Every waiter re-reads: the LISTEN connection is (back) up and may have missed publishes."""
        with self._lock:
            entries = [entry for group in self._subscriptions.values() for entry in group]
        for entry in entries:
            try:
                entry.loop.call_soon_threadsafe(entry._mark_stale)
            except RuntimeError:  # that loop has closed
                logger.debug("a subscriber on a closed loop")

    def publish_now(self, topic: str, key: str, data: str | None = None) -> None:
        """Publish outside any transaction (a device's reply); blocking, so call it in a thread."""
        if not self.postgresql:
            _dispatch_local(_url_key(self.engine), [(topic, key, data)])
            return
        with self.engine.begin() as connection:
            _pg_notify(connection.execute, topic, key, data)


def _call_soon(entry: Subscription, data: str | None) -> None:
    try:
        entry.loop.call_soon_threadsafe(entry._deliver, data)
    except RuntimeError:  # that loop has closed; its subscription goes with it
        logger.debug("a subscriber on a closed loop")


def _payload(key: str, data: str | None) -> str:
    if " " in key:
        raise ValueError(f"a notification key has no spaces: {key!r}")
    if data is not None and len(data.encode()) > MAX_DATA_BYTES:
        raise ValueError(f"notification data is at most {MAX_DATA_BYTES} bytes")
    return key if data is None else f"{key} {data}"


def _pg_notify(execute: Callable[..., Any], topic: str, key: str, data: str | None) -> None:
    execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": CHANNEL_PREFIX + topic, "payload": _payload(key, data)},
    )


def publish_after_commit(session: Session, topic: str, key: str, data: str | None = None) -> None:
    """Publish once the session's transaction commits (waiters woken earlier would look too early and
    sleep until the next re-read); a rollback publishes nothing."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        _pg_notify(session.execute, topic, key, data)  # part of the transaction: sent on commit
        return
    pending: list[tuple[str, str, str | None]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)
    _payload(key, data)  # the same checks as on PostgreSQL
    pending.append((topic, key, data))


def notify_after_commit(session: Session, hall_id: int) -> None:
    """Wake the hall's command waiters on every instance once the session commits."""
    publish_after_commit(session, COMMANDS, str(hall_id))


def _after_commit(session: Session) -> None:
    pending: list[tuple[str, str, str | None]] = session.info.get(_PENDING, [])
    if not pending:
        return
    items = list(dict.fromkeys(pending))
    pending.clear()
    _dispatch_local(_url_key(session.get_bind().engine), items)


def _after_rollback(session: Session) -> None:
    session.info.get(_PENDING, []).clear()


def _dispatch_local(url_key: str, items: list[tuple[str, str, str | None]]) -> None:
    with _LOCAL_LOCK:
        notifiers = list(_LOCAL.get(url_key, ()))
    for notifier in notifiers:
        for topic, key, data in items:
            notifier.dispatch(topic, key, data)
