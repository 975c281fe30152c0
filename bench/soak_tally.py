"""What the soak's agents see, kept from many threads at once: when each tracked observation was put
into its outbox and when central answered that it has it, the ids each outbox took, and every failure
the real uploader reported (`CountingOutbox`: the uploader tells its outbox about each failed upload
and each rejected row, so those calls are where the soak hears of them)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx

from bench.soak_plan import ErrorKind, ErrorRecord, Route
from edge.central import OBSERVATIONS_PATH
from edge.outbox import Outbox

logger = logging.getLogger(__name__)

ANSWERED = re.compile(r"central answered (\d{3})")


def error_kind(status: int) -> ErrorKind:
    return "http_5xx" if status >= 500 else "http_4xx"


class Tally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: dict[str, tuple[str, float]] = {}  # id → (kind, put at)
        self.samples: list[tuple[str, float, float | None]] = []
        self.sent: dict[str, list[str]] = {}
        self.errors: list[ErrorRecord] = []
        self.duplicates = 0
        self.refused = 0

    def error(self, source: str, kind: ErrorKind, detail: str, *, route: Route = "link") -> None:
        record = ErrorRecord(t=time.monotonic(), source=source, kind=kind, route=route, detail=detail[:300])
        with self._lock:
            self.errors.append(record)

    def put(self, device: str, obs_id: str, kind: str, at: float) -> None:
        with self._lock:
            self._started[obs_id] = (kind, at)
            self.sent.setdefault(device, []).append(obs_id)

    def refused_put(self, what: str) -> None:
        with self._lock:
            self.refused += 1
        self.error("outbox", "outbox_full", what)

    def answered(self, response: httpx.Response) -> None:
        """A 200 to an upload: every id central has (stored, or a re-send it already had) is done now."""
        if response.request.url.path != OBSERVATIONS_PATH or response.status_code != 200:
            return
        now = time.monotonic()
        response.read()
        results: list[dict[str, Any]] = response.json().get("results", [])
        with self._lock:
            for result in results:
                started = self._started.pop(result["id"], None)
                if result["outcome"] == "duplicate":
                    self.duplicates += 1
                if started is not None and result["outcome"] in ("stored", "duplicate"):
                    self.samples.append((started[0], started[1], now))

    def unanswered(self) -> None:
        """Rows never answered for become samples that never finished."""
        with self._lock:
            self.samples.extend((kind, at, None) for kind, at in self._started.values())
            self._started.clear()


class CountingOutbox(Outbox):
    """The real outbox, telling the tally about each failure the uploader notes on it."""

    def __init__(self, *args: Any, tally: Tally, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tally = tally

    def note_failure(self, ids: Sequence[str], detail: str) -> None:
        answered = ANSWERED.match(detail)
        kind = error_kind(int(answered.group(1))) if answered else "transport"
        self.tally.error("upload", kind, detail)
        super().note_failure(ids, detail)

    def mark_rejected(self, obs_id: str, detail: str) -> bool:
        self.tally.error("upload", "rejected", f"{obs_id}: {detail}")
        return super().mark_rejected(obs_id, detail)
