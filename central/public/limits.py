"""Per-client limits of the public feed (no sign-in, so the client is its address): a token bucket of
requests, and a cap on open streams. In memory, per process: enough to stop one screen or script
from hogging an instance; the kiosk's password guesses are counted in the database instead
(`central.public.lookup`), across instances. A display agent with its device key is not limited."""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

logger = logging.getLogger(__name__)

_PRUNE_EVERY = 10_000  # requests between sweeps of idle buckets


@dataclass
class _Bucket:
    tokens: float
    at: float


class ClientLimits:
    def __init__(self, *, per_minute: int, streams: int) -> None:
        self.per_minute, self.streams = per_minute, streams
        self._buckets: dict[str, _Bucket] = {}
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()
        self._seen = 0

    def take(self, client: str, *, now: float | None = None) -> int | None:
        """Spend one request of `client`: None when allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self._lock:
            self._seen += 1
            if self._seen % _PRUNE_EVERY == 0:
                self._prune(now)
            bucket = self._buckets.get(client)
            if bucket is None:
                bucket = self._buckets[client] = _Bucket(tokens=float(self.per_minute), at=now)
            bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return max(1, math.ceil((1 - bucket.tokens) / rate))

    def open_stream(self, client: str) -> bool:
        with self._lock:
            if self._open.get(client, 0) >= self.streams:
                return False
            self._open[client] = self._open.get(client, 0) + 1
            return True

    def close_stream(self, client: str) -> None:
        with self._lock:
            left = self._open.get(client, 0) - 1
            if left > 0:
                self._open[client] = left
            else:
                self._open.pop(client, None)

    def _prune(self, now: float) -> None:
        full_after = 60.0  # a bucket idle this long is full again: forgetting it changes nothing
        for client in [c for c, b in self._buckets.items() if now - b.at > full_after]:
            del self._buckets[client]
