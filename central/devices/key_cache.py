"""Device keys checked lately, kept per process: an edge agent uploads, syncs its clock and reconnects
its channel, and every hall screen reconnects its feed after each failover, each time with its key;
looking the key up (three tables joined) was one query of every such request.

Trusted on PostgreSQL only, and only while this process hears every instance's publishes: a
revocation (`revoke_keys`) publishes KEY_REVOKED on commit, and each process forgets the key when it
hears it. An entry is kept under the LISTEN connection's generation and is void once that connection
has dropped (publishes made meanwhile are lost). On SQLite a revocation by the CLI, another process,
is heard by nobody: no cache there. What else changes a key's device (its hall, its kind) is seen
within `ttl_seconds`, after which the key is looked up, and its last use written, again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from central.devices.notifier import KEY_REVOKED, Notifier

if TYPE_CHECKING:
    from central.devices.keys import DevicePrincipal

logger = logging.getLogger(__name__)

TTL_SECONDS = 60.0  # the last use of a key is written at most once a minute anyway
MAX_KEYS = 50_000  # a province has about 10,000 windows' keypads, their edge boxes and screens


@dataclass(frozen=True)
class CacheTicket:
    """Taken before a key is looked up in the database: a revocation heard meanwhile voids the answer."""

    generation: int | None
    forgets: int


@dataclass(frozen=True)
class _Entry:
    digest: str
    principal: DevicePrincipal
    generation: int
    checked: float


class DeviceKeyCache:
    def __init__(
        self, notifier: Notifier, *, ttl_seconds: float = TTL_SECONDS, max_keys: int = MAX_KEYS
    ) -> None:
        self._notifier = notifier
        self.ttl = ttl_seconds
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._forgets = 0
        self.hits = 0
        notifier.watch(KEY_REVOKED, self.forget)

    def fetch(
        self, key_id: str, digest: str, look_up: Callable[[], DevicePrincipal | None]
    ) -> DevicePrincipal | None:
        """The key's device from here, else from `look_up` (the database), kept for next time."""
        cached = self.get(key_id, digest)
        if cached is not None:
            return cached
        ticket = self._ticket()
        principal = look_up()
        if principal is not None:
            self._put(ticket, key_id=key_id, digest=digest, principal=principal)
        return principal

    def get(self, key_id: str, digest: str) -> DevicePrincipal | None:
        generation = self._notifier.generation
        if generation is None:
            return None
        with self._lock:
            entry = self._entries.get(key_id)
            if entry is None:
                return None
            fresh = entry.generation == generation and time.monotonic() - entry.checked < self.ttl
            if not fresh or entry.digest != digest:
                del self._entries[key_id]  # a wrong secret goes to the database, which refuses it
                return None
            self.hits += 1
            return entry.principal

    def _ticket(self) -> CacheTicket:
        with self._lock:
            return CacheTicket(self._notifier.generation, self._forgets)

    def _put(self, ticket: CacheTicket, *, key_id: str, digest: str, principal: DevicePrincipal) -> None:
        """Keep what the database said under `ticket`, unless a revocation was heard since, or the
        publishes may have been missed."""
        if ticket.generation is None or self._notifier.generation != ticket.generation:
            return
        with self._lock:
            if self._forgets != ticket.forgets:
                return
            if len(self._entries) >= self.max_keys:
                self._entries.clear()  # a flood of keys: start over rather than grow
            self._entries[key_id] = _Entry(digest, principal, ticket.generation, time.monotonic())

    def forget(self, key_id: str) -> None:
        """A key revoked (on any instance): never answered from here again."""
        with self._lock:
            self._forgets += 1
            self._entries.pop(key_id, None)
        logger.debug("device key %s forgotten: revoked", key_id)
