"""Verify the audit hash chain: walk it in seq order, recompute every hash, name the first bad entry.

Reasons: "altered" (an entry no longer hashes to its stored hash), "deleted" (a seq is missing, or
the head says the chain is longer than what is there), "inserted" (a seq comes twice, an entry does
not link to the one before it, or entries follow the head), "head mismatch" (the head row does not
match the entry it names, or is gone); "checkpoint mismatch" is given by `central.audit.checkpoint`
when an intact chain disagrees with a signed checkpoint kept outside the database.

Speed matters (a million entries in seconds, bench/audit.py): Core selects page by page, rows
read off the DBAPI cursor, `at` read as text and sliced into the hashed spelling, hashlib called
directly. Nothing in that fast path can pass a tampered entry: whatever text it hashes must still
reproduce the stored SHA-256; a wrong guess only sends one entry through the slow path.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Row,
    String,
    Table,
    Text,
    bindparam,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from central.audit.hashing import ZERO_HASH, canonical_payload, entry_hash, iso_utc
from central.audit.models import HEAD_ID, AuditEntry, AuditHead

logger = logging.getLogger(__name__)

Reason = Literal["altered", "deleted", "inserted", "head mismatch", "checkpoint mismatch"]
Progress = Callable[[int, int], None]  # (entries checked, entries the head announced)

_entries = cast(Table, AuditEntry.__table__)
_head = cast(Table, AuditHead.__table__)
_FIELDS = (
    "actor",
    "remote_addr",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class BadEntry:
    seq: int
    reason: Reason
    detail: str
    action: str | None = None  # of the bad entry; None when it is gone (deleted)
    at: datetime | None = None


@dataclass(frozen=True)
class VerifyResult:
    checked: int  # entries found intact and linked, from seq 1 on
    head_seq: int | None  # None: no head row
    bad: BadEntry | None

    @property
    def ok(self) -> bool:
        return self.bad is None


def _at_text(dialect: str) -> ColumnElement[str]:
    """`at` as naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]": building a datetime per row and
    formatting it costs more than SHA-256. SQLite: the stored text. PostgreSQL: its ISO output,
    which drops trailing zeros of the fraction (to_char would not, but is 3× slower)."""
    if dialect == "postgresql":
        return func.timezone("UTC", _entries.c.at).cast(Text).label("at")
    return type_coerce(_entries.c.at, String).label("at")


def _at_iso(stored: Any) -> str:
    """The hashed spelling of a stored `at`, the slow and general way."""
    try:
        moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(str(stored))
    except ValueError:
        return str(stored)  # unreadable: cannot reproduce the hash, so reported as altered
    return iso_utc(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _dt(at: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(at) if at else None
    except ValueError:
        return None


class _Walk:
    """One pass along the chain, and what the next entry must look like."""

    def __init__(self) -> None:
        self.expected = 1
        self.prev = ZERO_HASH
        self.prev_prev: str | None = None
        self.prev_action: str | None = None
        self.prev_at: str | None = None  # as hashed
        self.bad: BadEntry | None = None

    @property
    def good_upto(self) -> int:
        return self.expected - 1

    def scan(self, conn: Connection, *, chunk: int, progress: Progress | None, total: int) -> int:
        """Check the entries after `good_upto` in seq order, up to the first bad one; rows read.

        Page by page. While a helper thread fetches a page, the main thread leaves `conn` alone.
        """
        start = self.good_upto
        if start == 0:  # rows numbered below 1 belong to no chain: start low enough to meet them
            lowest = conn.scalar(select(func.min(_entries.c.seq)))
            start = min(0, lowest - 1) if lowest is not None else 0
        pages = _Pages(conn, chunk)
        # PostgreSQL: fetch the next page on a helper thread while this one is hashed; psycopg lets
        # go of the GIL while the server works. SQLite hands the GIL back and forth per row, which
        # was measured slower than no helper at all.
        ahead = conn.dialect.name == "postgresql"
        read = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-verify") as helper:
            pending: _Soon | None = _Soon(pages.fetch, start, helper if ahead else None)
            while pending is not None:
                rows, last = pending.result()
                pending = None if last is None else _Soon(pages.fetch, last, helper if ahead else None)
                read += len(rows)
                if self._check(rows):
                    break  # leaving the `with` waits for a page still in flight
                if progress is not None:
                    progress(self.good_upto, max(total, self.good_upto))
        return read

    def _check(self, rows: Sequence[Sequence[Any]]) -> bool:
        """True when a bad entry was found (recorded in self.bad)."""
        expected, prev, prev_prev = self.expected, self.prev, self.prev_prev
        prev_action, prev_at = self.prev_action, self.prev_at
        sha256, payload_of = hashlib.sha256, canonical_payload
        try:
            for seq, stored_at, actor, remote, action, t_type, t_id, before, after, prev_hash, digest in rows:
                # Naive UTC text to the hashed ISO spelling by slicing. A wrong guess only costs the
                # slow recheck below: a verdict never rests on it.
                size = len(stored_at)
                if size == 26:
                    at = f"{stored_at[:10]}T{stored_at[11:]}+00:00"
                elif 20 < size < 26:
                    at = f"{stored_at[:10]}T{stored_at[11:]}{'000000'[size - 20 :]}+00:00"
                else:
                    at = _at_iso(stored_at)
                if seq != expected:
                    if seq < expected:
                        detail = f"seq {seq} appears again after seq {expected - 1}"
                        self.bad = BadEntry(seq, "inserted", detail, action, _dt(at))
                    else:
                        missing = str(expected) if seq == expected + 1 else f"{expected}–{seq - 1}"
                        detail = (
                            f"entry {missing} is missing; the next one found is seq {seq} ({action}, {at})"
                        )
                        self.bad = BadEntry(expected, "deleted", detail)
                    return True
                payload = payload_of(seq, at, actor, remote, action, t_type, t_id, before, after)
                if sha256((payload + prev_hash).encode("utf-8")).hexdigest() != digest:
                    slow_at = _at_iso(stored_at)
                    values = (actor, remote, action, t_type, t_id, before, after)
                    if slow_at == at or entry_hash(payload_of(seq, slow_at, *values), prev_hash) != digest:
                        self.bad = BadEntry(
                            seq, "altered", "its fields no longer match its hash", action, _dt(at)
                        )
                        return True
                    at = slow_at
                if prev_hash != prev:
                    if prev_hash == prev_prev:  # links over its predecessor, which was slipped in
                        detail = f"entry {seq} links to entry {seq - 2}, so entry {seq - 1} is not part of the chain"
                        self.bad = BadEntry(seq - 1, "inserted", detail, prev_action, _dt(prev_at))
                    else:
                        detail = (
                            f"its prev_hash is not the hash of entry {seq - 1} "
                            f"(forged, or entry {seq - 1} rewritten)"
                        )
                        self.bad = BadEntry(seq, "inserted", detail, action, _dt(at))
                    return True
                prev_prev, prev = prev, digest
                prev_action, prev_at = action, at
                expected += 1
            return False
        finally:
            self.expected, self.prev, self.prev_prev = expected, prev, prev_prev
            self.prev_action, self.prev_at = prev_action, prev_at


_Page = tuple[Sequence[Sequence[Any]], int | None]


class _Soon:
    """A page fetched on the helper thread, or (without one) when asked for."""

    def __init__(self, fetch: Callable[[int], _Page], after: int, helper: ThreadPoolExecutor | None) -> None:
        self._fetch, self._after = fetch, after
        self._future: Future[_Page] | None = helper.submit(fetch, after) if helper else None

    def result(self) -> _Page:
        return self._future.result() if self._future else self._fetch(self._after)


class _Pages:
    """Pages of about `chunk` entries in seq order, split between two seqs, never inside one: a
    seq that appears twice (someone dropped the unique index) cannot hide at a page boundary."""

    def __init__(self, conn: Connection, chunk: int) -> None:
        self.conn = conn
        seq = _entries.c.seq
        lo, hi = bindparam("lo", type_=BigInteger()), bindparam("hi", type_=BigInteger())
        columns = [seq, _at_text(conn.dialect.name), *(_entries.c[name] for name in _FIELDS)]
        # The seq `chunk` places on; an index-only look-up.
        self.bound = select(seq).where(seq > lo).order_by(seq).offset(chunk - 1).limit(1)
        # Seq order alone: the unique index gives it without a sort. Entries sharing a seq come in
        # either order; the report names that seq either way.
        self.page = select(*columns).where(seq > lo, seq <= hi).order_by(seq)
        self.rest = select(*columns).where(seq > lo).order_by(seq)

    def fetch(self, after: int) -> _Page:
        """The entries of the page after seq `after`, and the page's last seq (None: no more).

        Rows are read straight off the DBAPI cursor of the Core select: the columns need no
        conversion, and skipping SQLAlchemy's Row objects saves a fifth of verify's time.
        """
        upto = self.conn.scalar(self.bound, {"lo": after})
        if upto is None:
            result = self.conn.execute(self.rest, {"lo": after})
        else:
            result = self.conn.execute(self.page, {"lo": after, "hi": upto})
        with result:
            rows: Sequence[Sequence[Any]] = result.cursor.fetchall()
        return rows, upto


def _read_head(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute(select(_head.c.seq, _head.c.hash).where(_head.c.id == HEAD_ID)).first()
    return None if row is None else (int(row.seq), str(row.hash))


def _entry_at(conn: Connection, seq: int) -> Row[str, str, datetime] | None:
    query = select(_entries.c.hash, _entries.c.action, _entries.c.at).where(_entries.c.seq == seq)
    return conn.execute(query.order_by(_entries.c.id).limit(1)).first()


def verify(
    bind: Session | Connection, *, progress: Progress | None = None, chunk: int = 20_000
) -> VerifyResult:
    """Walk the whole chain in seq order and name the first bad entry, if any (reads only)."""
    conn = bind.connection() if isinstance(bind, Session) else bind
    walk = _Walk()
    head = _read_head(conn)
    read = walk.scan(conn, chunk=chunk, progress=progress, total=head[0] if head else 0)
    # The head is read again after the scan: a writer that appended meanwhile committed its entries
    # with the head, so they are readable now and are checked in a further pass, not taken as missing.
    head = _read_head(conn)
    while walk.bad is None and read and head is not None and head[0] > walk.good_upto:
        read = walk.scan(conn, chunk=chunk, progress=progress, total=head[0])
        head = _read_head(conn)
    bad = _judge_head(conn, walk, head)
    result = VerifyResult(checked=walk.good_upto, head_seq=head[0] if head else None, bad=bad)
    if bad is None:
        logger.info("audit chain intact: %d entries", result.checked)
    else:
        logger.warning("audit chain broken at seq %d (%s): %s", bad.seq, bad.reason, bad.detail)
    return result


def _judge_head(conn: Connection, walk: _Walk, head: tuple[int, str] | None) -> BadEntry | None:
    """The first bad entry, once the head row's word on where the chain ends is taken into account."""
    upto = walk.good_upto
    if head is None:
        if upto == 0 and walk.bad is None:
            return None  # nothing was ever recorded
        return walk.bad or BadEntry(upto, "head mismatch", "the audit_head row is missing")
    head_seq, head_hash = head
    if head_seq < upto:  # intact entries past the head: appended behind the application, or head rewound
        at_head = _entry_at(conn, head_seq)
        if (at_head.hash if at_head else ZERO_HASH) == head_hash:
            first_after = _entry_at(conn, head_seq + 1)
            return BadEntry(
                head_seq + 1,
                "inserted",
                f"the head ends the chain at seq {head_seq}, but entries up to {upto} follow it",
                first_after.action if first_after else None,
                first_after.at if first_after else None,
            )
        return BadEntry(
            head_seq,
            "head mismatch",
            f"the head (seq {head_seq}) does not match entry {head_seq}",
            at_head.action if at_head else None,
            at_head.at if at_head else None,
        )
    if walk.bad is not None:
        return walk.bad
    if head_seq > upto:
        detail = f"the head says the chain holds {head_seq} entries, only {upto} were found"
        return BadEntry(upto + 1, "deleted", detail)
    if head_hash != walk.prev:
        detail = f"the head's hash is not the hash of entry {head_seq}"
        return BadEntry(head_seq, "head mismatch", detail, walk.prev_action, _dt(walk.prev_at))
    return None
