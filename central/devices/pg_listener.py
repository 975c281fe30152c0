"""The one LISTEN connection of a central process (PostgreSQL): a thread that hands every NOTIFY to
its `Notifier` and reconnects with jittered exponential backoff when the connection drops.

A thread with its own psycopg connection, not one from the pool: it is held for the process's life,
and blocking on it never stalls the event loop. It holds its notifier weakly, so an app that is
dropped without a lifespan shutdown (tests) lets the thread end too.
"""

from __future__ import annotations

import logging
import random
import threading
import weakref
from typing import Protocol

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 15.0
CONNECT_TIMEOUT_S = 5
# How often the thread looks up from the socket (stop requested, owner gone): a stop waits this long.
POLL_S = 0.1


class ListenerOwner(Protocol):
    """What the listener hands its notifications to (`central.devices.notifier.Notifier`)."""

    def wake_all(self) -> None: ...

    def dispatch_payload(self, channel: str, payload: str) -> None: ...


class PgListener:
    def __init__(self, conninfo: str, channels: list[str], *, owner: weakref.ref[ListenerOwner]) -> None:
        self._conninfo = conninfo
        self._channels = channels
        self._owner = owner
        self._stop = threading.Event()
        self.connected = threading.Event()
        self.connects = 0  # how many times LISTEN was (re)established; tests and logs read it
        self.backend_pid: int | None = None
        self._thread = threading.Thread(target=self._run, name="central-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _alive(self) -> bool:
        return not self._stop.is_set() and self._owner() is not None

    def _run(self) -> None:
        failures = 0
        while self._alive():
            try:
                self._listen()
                failures = 0
            except psycopg.Error as exc:
                failures += 1
                log = logger.warning if failures == 1 or failures % 20 == 0 else logger.debug
                log("LISTEN connection lost or refused (attempt %d): %s", failures, exc)
            finally:
                self.connected.clear()
                self.backend_pid = None
            if failures:
                cap = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2.0 ** min(failures - 1, 10))
                self._stop.wait(random.uniform(cap / 2, cap))  # jittered: instances do not reconnect in step
        logger.debug("LISTEN thread ended")

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            for channel in self._channels:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self.backend_pid = conn.info.backend_pid
            self.connects += 1
            self.connected.set()
            owner = self._owner()
            if owner is None:
                return
            if self.connects > 1:
                logger.info("LISTEN connection back (connect %d): waiters re-read", self.connects)
            owner.wake_all()  # publishes made while it was down are lost: everyone re-reads
            del owner
            while self._alive():
                for note in conn.notifies(timeout=POLL_S):
                    owner = self._owner()
                    if owner is None:
                        return
                    owner.dispatch_payload(note.channel, note.payload)
                    del owner
