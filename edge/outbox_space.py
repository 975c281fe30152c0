"""The outbox's disk space: what it refuses when the edge box's disk fills up, and how loudly.

Two conditions, each logged as an ERROR when it begins, again at most every LOG_EVERY_S while it
refuses work (with what was refused since), and as an INFO when it ends:

* **low** — free space on the outbox's file system is below `reserve_bytes`: evidence snapshots and
  clips (tens to hundreds of KB each) are refused before they are made, so the space left goes to the
  small observations (a keypad press is ~300 bytes) and to the uploader's delivery marks.
* **full** — SQLite answered SQLITE_FULL ("database or disk is full"): nothing new can be stored.
  The write is rolled back (rows already stored are untouched), and the outbox gives back its
  **spare**: a file of `spare_bytes` kept beside the database from the start for this moment, so the
  uploader's delivery marks, pruning and WAL checkpoints — SQLite appends to the write-ahead log even
  to mark a row delivered — still have room and the backlog keeps draining to central. Until free
  space is back above the spare's size plus ROOM_BYTES, new observations are refused without trying
  (they would eat the room kept for the drain); then the spare is made again and the next write is
  tried. Its success ends the condition: no restart.

What a producer does with a refusal is its own: the keypad reader does not ACK the press (the keypad
sees it was not stored), a camera drops the observation and counts it. `OutboxHealth` is the state for
the agent's status; refusals are counted once per observation id (a keypad retransmits a press up to
five times).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from common.device_channel import CURSOR_MAX, FREE_BYTES_MAX, MAX_KINDS, SINCE_MAX, SINCE_MIN, OutboxReport

logger = logging.getLogger(__name__)

MEDIA_KINDS = frozenset({"evidence", "clip"})  # the large rows: refused first, below the reserve
LOG_EVERY_S = 60.0  # a condition that keeps refusing work is logged at most this often
ROOM_BYTES = 1024 * 1024  # free space, past the spare's size, at which new observations are tried again
REMEMBERED_IDS = 1024  # refused ids remembered, so a retransmitted press is counted once
MB = 1024 * 1024


class OutboxFull(Exception):
    """Nothing of this write was stored: the outbox's disk is full (or below the reserve, for evidence
    and clips). The outbox has already logged and counted it."""


def is_disk_full(exc: sqlite3.Error) -> bool:
    """Whether SQLite said SQLITE_FULL (the disk, or the database's page limit, is full)."""
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


@dataclass(frozen=True)
class SpacePolicy:
    """How much disk the outbox keeps back (the edge config's `outbox.reserve_mb` and `spare_mb`)."""

    reserve_bytes: int = 0  # evidence and clips are refused while less is free
    spare_bytes: int = 0  # the spare file given back to SQLite when the disk is full


@dataclass(frozen=True)
class OutboxHealth:
    """The outbox's disk state for the agent's status: `full` (nothing new is stored), `low` (evidence
    and clips are refused), since when (unix seconds), and observations refused since the start."""

    full: bool
    low: bool
    since: float | None
    free_bytes: int
    refused: int
    refused_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.full and not self.low

    @property
    def state(self) -> Literal["ok", "low", "full"]:
        return "full" if self.full else "low" if self.low else "ok"

    def summary(self) -> str:
        state = "FULL: refusing new observations" if self.full else "LOW: refusing evidence and clips"
        head = "disk ok" if self.ok else state
        return f"{head}, {self.free_bytes / MB:.1f} MB free, {self.refused} refused since start"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for a status report."""
        return {
            "state": self.state,
            "since": self.since,
            "free_bytes": self.free_bytes,
            "refused": self.refused,
            "refused_by_kind": dict(self.refused_by_kind),
        }

    def report(self, *, clock_offset_seconds: float = 0.0) -> OutboxReport | None:
        """What central is told (the channel's ping, the time sync's header): `since` on central's
        clock (the agent's measured offset added), every number within the report's bounds; None,
        logged, should it still not fit them."""
        since = None if self.since is None else self.since + clock_offset_seconds
        try:
            return OutboxReport(
                state=self.state,
                # a box clock far off before its first sync must not cost the report
                since=None if since is None else min(max(since, SINCE_MIN), SINCE_MAX),
                free_bytes=min(self.free_bytes, FREE_BYTES_MAX),
                refused=min(self.refused, CURSOR_MAX),
                refused_by_kind=dict(Counter(self.refused_by_kind).most_common(MAX_KINDS)),
            )
        except ValidationError as exc:
            logger.warning("outbox: its disk state does not fit a report to central: %s", exc.errors()[:2])
            return None


class _Condition:
    """One condition's alarm: ERROR when it begins, again at most every LOG_EVERY_S while it refuses
    work, INFO when it ends."""

    def __init__(self, words: str, monotonic: Callable[[], float], wall: Callable[[], float]) -> None:
        self.words = words  # what is refused, e.g. "new observations"
        self._monotonic, self._wall = monotonic, wall
        self.since: float | None = None  # unix seconds
        self._logged_at = 0.0
        self._unlogged: Counter[str] = Counter()
        self._during = 0
        self._named = False  # an ERROR named something refused since the condition began

    @property
    def active(self) -> bool:
        return self.since is not None

    def begin(self, why: str, what: str | None = None) -> None:
        """The condition holds (logged once, when it begins)."""
        if self.since is not None:
            return
        self.since, self._logged_at = self._wall(), self._monotonic()
        self._unlogged.clear()
        self._named = what is not None
        refused = f"; refused {what}" if what else ""
        logger.error("outbox: %s: %s are REFUSED until space returns%s", why, self.words, refused)

    def refused(self, kinds: Iterable[str], what: str, why: str) -> None:
        kinds = list(kinds)
        self._during += len(kinds)
        if self.since is None:
            self.begin(why, what)
            return
        now = self._monotonic()
        if not self._named:  # begun by a delivery mark: the first refusal is named at once
            logger.error("outbox: %s: refused %s", why, what)
            self._named, self._logged_at = True, now
            return
        self._unlogged.update(kinds)
        if now - self._logged_at >= LOG_EVERY_S:
            logger.error(
                "outbox: still %s: %d observation(s) refused in the last %.0f s (%s), %d since %s",
                why,
                sum(self._unlogged.values()),
                now - self._logged_at,
                ", ".join(f"{kind} {n}" for kind, n in self._unlogged.most_common()) or "none new",
                self._during,
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since)),
            )
            self._logged_at = now
            self._unlogged.clear()

    def ended(self, free_bytes: int) -> None:
        if self.since is None:
            return
        logger.info(
            "outbox: the disk has room again (%.1f MB free): %s are stored again after %.0f s; "
            "%d observation(s) were refused meanwhile",
            free_bytes / MB,
            self.words,
            self._wall() - self.since,
            self._during,
        )
        self.since, self._during = None, 0
        self._unlogged.clear()


class OutboxSpace:
    """Admission of writes to an outbox at `db_path`, given its `policy`; thread-safe."""

    def __init__(
        self,
        db_path: Path,
        policy: SpacePolicy,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy
        self.directory = db_path.parent
        self.spare = db_path.with_name(db_path.name + ".spare")
        self._lock = threading.Lock()
        self._full = _Condition("new observations", monotonic, wall)
        self._low = _Condition("evidence and clips", monotonic, wall)
        self._refused: Counter[str] = Counter()
        self._refused_ids: OrderedDict[str, None] = OrderedDict()
        if not self._make_spare():
            self._full.begin(f"{self._why_full()}, no room for the outbox's spare file")

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.directory).free

    # --- before a write ----------------------------------------------------------------------

    def admit(self, rows: Collection[tuple[str, str]], *, count: bool = True) -> None:
        """Raise OutboxFull (logged, counted) if these (id, kind) rows must be refused without trying."""
        with self._lock:
            free = self.free_bytes()
            if self._full.active and (free < self.policy.spare_bytes + ROOM_BYTES or not self._make_spare()):
                raise self._refuse(self._full, rows, self._why_full(free), count=count)
            # ROOM_BYTES of hysteresis: free space hovering at the reserve does not flap the log
            if free >= self.policy.reserve_bytes + (ROOM_BYTES if self._low.active else 0):
                self._low.ended(free)
            elif any(kind in MEDIA_KINDS for _, kind in rows):
                raise self._refuse(self._low, rows, self._why_low(free), count=count)

    def admit_media(self, kind: str, what: str) -> bool:
        """Whether an evidence snapshot or clip may be made and stored now (False: refused, logged and
        counted as `what`): asked before the work of making one."""
        try:
            self.admit([(what, kind)])
        except OutboxFull:
            return False
        return True

    # --- after a write -----------------------------------------------------------------------

    def disk_full(self) -> None:
        """SQLite answered SQLITE_FULL to a write about stored rows (a delivery mark): new observations
        are refused from now on, and the spare goes back to the file system for such writes."""
        with self._lock:
            self._full.begin(self._why_full())
            self._give_spare_back()

    def refused_full(self, rows: Collection[tuple[str, str]], *, count: bool = True) -> OutboxFull:
        """SQLite answered SQLITE_FULL to storing these (id, kind) rows: the error to raise, logged and
        counted; the spare goes back to the file system for the delivery of what is stored."""
        with self._lock:
            refused = self._refuse(self._full, rows, self._why_full(), count=count)
            self._give_spare_back()
            return refused

    def stored(self) -> None:
        """A write of new rows succeeded: a full disk has room again."""
        if self._full.active:
            with self._lock:
                self._full.ended(self.free_bytes())

    def health(self) -> OutboxHealth:
        with self._lock:
            since = [c.since for c in (self._full, self._low) if c.since is not None]
            return OutboxHealth(
                full=self._full.active,
                low=self._low.active,
                since=min(since) if since else None,
                free_bytes=self.free_bytes(),
                refused=sum(self._refused.values()),
                refused_by_kind=dict(self._refused),
            )

    # --- inside the lock ---------------------------------------------------------------------

    def _refuse(
        self, condition: _Condition, rows: Collection[tuple[str, str]], why: str, *, count: bool
    ) -> OutboxFull:
        new = [(obs_id, kind) for obs_id, kind in rows if obs_id not in self._refused_ids] if count else []
        for obs_id, _ in new:
            self._refused_ids[obs_id] = None
            if len(self._refused_ids) > REMEMBERED_IDS:
                self._refused_ids.popitem(last=False)
        self._refused.update(kind for _, kind in new)
        what = ", ".join(f"{kind} {obs_id}" for obs_id, kind in list(rows)[:3]) + (
            " …" if len(rows) > 3 else ""
        )
        condition.refused((kind for _, kind in new), what or "nothing yet", why)
        return OutboxFull(f"{why}: refused {what}")

    def _give_spare_back(self) -> None:
        if self.spare.exists():
            self.spare.unlink()
            logger.warning(
                "outbox: gave the %.1f MB spare file back, for the delivery of what is stored",
                self.policy.spare_bytes / MB,
            )

    def _make_spare(self) -> bool:
        """Have the spare file at its size; False when the disk has no room for it."""
        size = self.policy.spare_bytes
        if size <= 0 or (self.spare.exists() and self.spare.stat().st_size >= size):
            return True
        try:
            fd = os.open(self.spare, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, size)  # blocks really allocated: the space is ours
            finally:
                os.close(fd)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            self.spare.unlink(missing_ok=True)
            return False
        return True

    def _why_full(self, free: int | None = None) -> str:
        free = self.free_bytes() if free is None else free
        return f"the disk holding {self.directory} is full ({free / MB:.1f} MB free)"

    def _why_low(self, free: int) -> str:
        return (
            f"only {free / MB:.1f} MB free on the disk holding {self.directory}, "
            f"below the reserve of {self.policy.reserve_bytes / MB:.0f} MB"
        )
