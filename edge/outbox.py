"""The edge outbox: everything the edge observes is written here first, then uploaded to central.

One SQLite file in WAL mode with `synchronous=FULL`. In WAL mode the default (NORMAL) only syncs
the log at checkpoints: a commit survives the process being killed, but the last commits can vanish
on a power cut or kernel crash. The keypad reader ACKs a press (and the keypad stops retransmitting
it) as soon as `put` returns, so a row that vanished then would be a press lost for good; FULL syncs
the log on every commit, so a row `put` reported is on disk. It costs one fsync per commit, which is
why `put_many`, `mark_delivered` and friends write many rows per transaction.

Rows are ordered by an integer `seq` (the rowid, stable across VACUUM) and unique by the
observation `id`, which is deterministic (a keypad press is f"{keypad}:{seq}:{uptime_ms}"), so a
retransmitted frame or a restarted reader stores the same press once. A row is `pending` until
central answers "stored" or "duplicate" (`delivered`) or "rejected" (`rejected`, kept aside with
the reason, never retried). Delivered rows are pruned after a retention period.

A full disk (`edge.outbox_space`): a write SQLite cannot store is rolled back whole and raises
OutboxFull (logged and counted); what is stored stays and keeps draining, and the first write that
succeeds once space returns ends the condition.

Thread-safe: one connection guarded by a lock (readers, the uploader and the command poller share it).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from edge.outbox_space import OutboxFull, OutboxHealth, OutboxSpace, SpacePolicy, is_disk_full

logger = logging.getLogger(__name__)

MAX_ID_LENGTH = 64
T = TypeVar("T")
__all__ = ["Outbox", "OutboxCounts", "OutboxFull", "OutboxHealth", "Pending", "Rejected", "SpacePolicy"]
SCHEMA = """
CREATE TABLE IF NOT EXISTS observations (
    seq INTEGER PRIMARY KEY,          -- upload order (alias of the rowid)
    id TEXT NOT NULL UNIQUE,          -- the observation id: idempotency key here and at central
    kind TEXT NOT NULL,
    body TEXT NOT NULL,               -- the whole observation as JSON, sent as is
    created_at REAL NOT NULL,         -- unix seconds, edge clock
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,  -- failed uploads so far
    settled_at REAL,                  -- when delivered or rejected
    detail TEXT                       -- why rejected, or the last failure
);
CREATE INDEX IF NOT EXISTS observations_state ON observations (state, settled_at);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- What a producer would report if it stopped now (the current hour's visitor counts), replaced as it
-- changes; a producer that stops cleanly stores the final rows and clears its own. Rows left here
-- belong to a process that was killed: the next agent promotes them to observations on start.
CREATE TABLE IF NOT EXISTS provisional (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,              -- the producer (a camera's name)
    kind TEXT NOT NULL,
    body TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Pending:
    id: str
    kind: str
    body: str  # JSON text of the observation
    attempts: int
    seq: int  # the order it was stored in


@dataclass(frozen=True)
class Rejected:
    id: str
    kind: str
    body: str
    detail: str | None


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    delivered: int
    rejected: int


def encode_observation(observation: Mapping[str, Any]) -> tuple[str, str, str]:
    """(id, kind, JSON body); datetimes become ISO text. ValueError names what is wrong."""
    obs_id, kind = observation.get("id"), observation.get("kind")
    if not isinstance(obs_id, str) or not 1 <= len(obs_id) <= MAX_ID_LENGTH:
        raise ValueError(f"an observation needs an id of 1..{MAX_ID_LENGTH} characters, got {obs_id!r}")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"observation {obs_id} needs a kind")
    return obs_id, kind, json.dumps(observation, ensure_ascii=False, separators=(",", ":"), default=_json)


def _json(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("observation times must be timezone-aware")
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an observation")


class Outbox:
    """The on-disk queue of observations. `arrived` is set whenever a new row is stored."""

    def __init__(
        self,
        path: Path,
        *,
        retain_delivered_seconds: float = 7 * 24 * 3600,
        clock: Callable[[], float] = time.time,
        space: SpacePolicy = SpacePolicy(),
    ) -> None:
        self.path = path
        self.retain_delivered_seconds = retain_delivered_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self.arrived = threading.Event()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.space = OutboxSpace(path, space)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)
        logger.info("outbox %s open: %s", path, self.counts())

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction, rolled back whole on any error (a COMMIT that fails for a full disk
        included). `durable=False` skips the fsync at commit, for writes that may be lost to a power
        cut without harm: the next durable commit syncs them along with it. SQLITE_FULL raises
        OutboxFull."""
        with self._lock:
            if not durable:
                self._conn.execute("PRAGMA synchronous=NORMAL")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:  # SQLite may have rolled back already
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                if not is_disk_full(exc):
                    raise
                raise OutboxFull(str(exc)) from exc
            finally:
                if not durable:
                    self._conn.execute("PRAGMA synchronous=FULL")

    def _settle(self, work: Callable[[sqlite3.Connection], T], *, durable: bool = True) -> T:
        """A write about rows already stored (delivery marks, pruning, the command cursor). On a full
        disk it is tried once more, after the spare file went back to the file system."""
        try:
            with self._transaction(durable=durable) as conn:
                return work(conn)
        except OutboxFull:
            self.space.disk_full()
        with self._transaction(durable=durable) as conn:
            return work(conn)

    def _store(
        self, rows: Sequence[tuple[str, str]], work: Callable[[sqlite3.Connection], T], *, count: bool = True
    ) -> T:
        """A write of new rows (`rows`: their (id, kind)): refused without trying while the disk is
        full, or for evidence and clips below the reserve; refused (logged, counted) when SQLite finds
        the disk full. Success ends a full disk's condition."""
        self.space.admit(rows, count=count)
        try:
            with self._transaction() as conn:
                result = work(conn)
        except OutboxFull:
            raise self.space.refused_full(rows, count=count) from None
        self.space.stored()
        return result

    # --- writing -----------------------------------------------------------------------------

    def put(self, observation: Mapping[str, Any]) -> bool:
        """Store durably (on disk when this returns); False when that id is already here.
        OutboxFull when the disk has no room (nothing stored)."""
        return self.put_many([observation]) == 1

    def put_many(self, observations: Iterable[Mapping[str, Any]]) -> int:
        """Store many in one transaction (one fsync), all or none; returns how many were new."""
        rows = [(*encode_observation(o), self._clock()) for o in observations]

        def insert(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO observations (id, kind, body, created_at) VALUES (?, ?, ?, ?)", rows
            )
            return conn.total_changes - before

        new = self._store([(r[0], r[1]) for r in rows], insert)
        if new:
            self.arrived.set()
        return new

    def admit_media(self, kind: str, what: str) -> bool:
        """Whether an evidence snapshot or clip (`kind`) may be stored now; False (logged and counted
        as `what`) below the reserve or on a full disk. Asked before the work of making one."""
        return self.space.admit_media(kind, what)

    def health(self) -> OutboxHealth:
        return self.space.health()

    def put_provisional(self, owner: str, observations: Iterable[Mapping[str, Any]]) -> None:
        """Replace `owner`'s provisional rows with these (none: clear them), durably. On a full disk
        OutboxFull (logged, not counted: these are not observations yet)."""
        rows = [(obs_id, owner, kind, body) for obs_id, kind, body in map(encode_observation, observations)]

        def replace(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM provisional WHERE owner = ?", (owner,))
            conn.executemany("INSERT INTO provisional (id, owner, kind, body) VALUES (?, ?, ?, ?)", rows)

        self._store([(r[0], r[2]) for r in rows], replace, count=False)

    def promote_provisional(self) -> int:
        """Make every provisional row left by a killed process an observation (an id already stored
        stays as it was); returns how many were new. For the agent's start, before producers run."""

        def promote(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.execute(
                "INSERT OR IGNORE INTO observations (id, kind, body, created_at) "
                "SELECT id, kind, body, ? FROM provisional ORDER BY owner, id",
                (self._clock(),),
            )
            new = conn.total_changes - before
            conn.execute("DELETE FROM provisional")
            return new

        new = self._store([("provisional rows", "visitor_count")], promote, count=False)
        if new:
            self.arrived.set()
            logger.warning("outbox: %d observation(s) recovered from a run that did not stop cleanly", new)
        return new

    def mark_delivered(self, ids: Sequence[str]) -> int:
        """Central has them ("stored" or "duplicate"); returns how many pending rows changed.

        Not synced at once: a mark lost to a power cut only sends those rows again, and central
        answers "duplicate" (its idempotency, not this mark, is what keeps a press stored once).
        """
        now = self._clock()

        def mark(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany(
                "UPDATE observations SET state = 'delivered', settled_at = ?, detail = NULL "
                "WHERE id = ? AND state = 'pending'",
                [(now, i) for i in ids],
            )
            return conn.total_changes - before

        return self._settle(mark, durable=False)

    def mark_rejected(self, obs_id: str, detail: str) -> bool:
        """Central can never store it: set aside with the reason, never sent again."""
        changed = self._settle(
            lambda conn: (
                conn.execute(
                    "UPDATE observations SET state = 'rejected', settled_at = ?, detail = ? "
                    "WHERE id = ? AND state = 'pending'",
                    (self._clock(), detail[:2000], obs_id),
                ).rowcount
                == 1
            )
        )
        if changed:
            logger.error("observation %s REJECTED by central, set aside: %s", obs_id, detail)
        return changed

    def requeue_rejected(self) -> int:
        """Make every rejected row pending again (after fixing why central refused it); returns how many."""
        count = self._settle(
            lambda conn: (
                conn.execute(
                    "UPDATE observations SET state = 'pending', settled_at = NULL, attempts = 0 WHERE state = 'rejected'"
                ).rowcount
            )
        )
        if count:
            logger.warning("outbox: %d rejected row(s) requeued", count)
            self.arrived.set()
        return count

    def note_failure(self, ids: Sequence[str], detail: str) -> None:
        """An upload of these failed (they stay pending): count the attempt, keep the reason."""
        self._settle(
            lambda conn: conn.executemany(
                "UPDATE observations SET attempts = attempts + 1, detail = ? WHERE id = ? AND state = 'pending'",
                [(detail[:2000], i) for i in ids],
            )
        )

    def prune(self) -> int:
        """Delete delivered rows older than the retention period; returns how many."""
        cutoff = self._clock() - self.retain_delivered_seconds
        pruned = self._settle(
            lambda conn: (
                conn.execute(
                    "DELETE FROM observations WHERE state = 'delivered' AND settled_at < ?", (cutoff,)
                ).rowcount
            )
        )
        if pruned:
            logger.info("outbox pruned %d delivered row(s)", pruned)
        return pruned

    def set_meta(self, key: str, value: str) -> None:
        self._settle(
            lambda conn: conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        )

    # --- reading -----------------------------------------------------------------------------

    def durability(self) -> tuple[str, str]:
        """(journal mode, synchronous level) of the open connection: ("wal", "full")."""
        with self._lock:
            mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
            level = self._conn.execute("PRAGMA synchronous").fetchone()[0]
        return str(mode), {0: "off", 1: "normal", 2: "full", 3: "extra"}[int(level)]

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def pending(self, limit: int, *, max_bytes: int | None = None, after_seq: int = 0) -> list[Pending]:
        """The oldest pending rows, in the order they were stored: at most `limit` rows and, past the
        first, at most `max_bytes` of bodies (evidence JPEGs make some rows ~100 times larger).
        `after_seq` skips rows up to that seq (a batch still in flight, not yet marked)."""
        with self._lock:
            if max_bytes is not None:
                limit = self._rows_within(limit, max_bytes, after_seq)
            rows = self._conn.execute(
                "SELECT id, kind, body, attempts, seq FROM observations "
                "WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [Pending(*row) for row in rows]

    def _rows_within(self, limit: int, max_bytes: int, after_seq: int) -> int:
        sizes = self._conn.execute(
            "SELECT length(body) FROM observations WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        ).fetchall()
        total = count = 0
        for (size,) in sizes:
            total += size
            if count and total > max_bytes:
                break
            count += 1
        return max(count, 1)

    def rejected(self, limit: int = 100) -> list[Rejected]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, kind, body, detail FROM observations WHERE state = 'rejected' "
                "ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [Rejected(*row) for row in rows]

    def counts(self) -> OutboxCounts:
        with self._lock:
            rows = dict(
                self._conn.execute("SELECT state, count(*) FROM observations GROUP BY state").fetchall()
            )
        return OutboxCounts(
            pending=rows.get("pending", 0),
            delivered=rows.get("delivered", 0),
            rejected=rows.get("rejected", 0),
        )
