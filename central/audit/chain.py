"""Append to the audit hash chain (and, re-exported from `central.audit.verify`, check it).

`audit_head` holds the last seq and hash: appends lock it, so two central instances cannot fork the
chain, and verify compares against it, so cutting off the newest entries shows too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Table, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from central.audit.hashing import ZERO_HASH, canonical_json, canonical_payload, entry_hash, iso_utc
from central.audit.models import HEAD_ID, AuditEntry, AuditHead
from central.audit.verify import BadEntry, VerifyResult, verify
from central.core.actor import Actor
from central.core.bulk import draw_ids, insert_rows
from central.core.db import conflict_insert

logger = logging.getLogger(__name__)

__all__ = [
    "AuditChainError",
    "BadEntry",
    "Change",
    "VerifyResult",
    "latest_entries",
    "record",
    "record_many",
    "verify",
]

_entries = cast(Table, AuditEntry.__table__)
_head = cast(Table, AuditHead.__table__)


class AuditChainError(RuntimeError):
    """The chain cannot be appended to safely (its head row is gone while entries remain)."""


@dataclass(frozen=True)
class Change:
    """One audited write: what was touched and its state before and after (JSON-able values)."""

    action: str
    target_type: str
    target_id: str
    before: Any = None
    after: Any = None


class EntryFields(TypedDict):
    """The stored fields that are hashed as they are (time is hashed as its ISO text)."""

    seq: int
    actor: str
    remote_addr: str | None
    action: str
    target_type: str
    target_id: str
    before: str | None
    after: str | None


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    before: Any = None,
    after: Any = None,
    at: datetime,
) -> AuditEntry:
    """Append one entry in the caller's transaction (no commit: it stands or falls with the change)."""
    change = Change(action=action, target_type=target_type, target_id=target_id, before=before, after=after)
    return AuditEntry(**_append(session, actor=actor, at=at, changes=[change])[0])


def record_many(session: Session, *, actor: Actor, at: datetime, changes: Sequence[Change]) -> None:
    """Append several entries under one lock of the head (a batch touching many cases, the follow-ups
    of a drained outbox's 差评): one insert statement."""
    if changes:
        _append(session, actor=actor, at=at, changes=changes)


def _append(
    session: Session, *, actor: Actor, at: datetime, changes: Sequence[Change]
) -> list[dict[str, Any]]:
    """Insert the entries of `changes` after the head, move the head; the rows inserted."""
    if at.tzinfo is None:
        raise ValueError("audit time must be timezone-aware")
    at_text = iso_utc(at)
    seq, prev = _lock_head(session)
    ids = draw_ids(session, AuditEntry, len(changes))
    rows: list[dict[str, Any]] = []
    for entry_id, change in zip(ids, changes, strict=True):
        seq += 1
        fields: EntryFields = {
            "seq": seq,
            "actor": actor.label,
            "remote_addr": actor.remote_addr,
            "action": change.action,
            "target_type": change.target_type,
            "target_id": change.target_id,
            "before": canonical_json(change.before),
            "after": canonical_json(change.after),
        }
        digest = entry_hash(canonical_payload(at=at_text, **fields), prev)
        rows.append({"id": entry_id, "at": at, "prev_hash": prev, "hash": digest, **fields})
        prev = digest
    insert_rows(session, AuditEntry, rows)
    session.execute(_head.update().where(_head.c.id == HEAD_ID).values(seq=seq, hash=prev))
    logger.debug("audit %s by %s: seq %d", changes[0].action, actor.label, seq)
    return rows


def _lock_head(session: Session) -> tuple[int, str]:
    """The head's (seq, hash), locked until the caller's transaction ends."""
    dialect = session.get_bind().dialect.name
    query = select(_head.c.seq, _head.c.hash).where(_head.c.id == HEAD_ID)
    if dialect == "sqlite":
        # SQLite has no row locks; a write takes the database's write lock, so write the head
        # first: no other writer can then append between our read of the head and our commit.
        touched = session.execute(_head.update().where(_head.c.id == HEAD_ID).values(seq=_head.c.seq))
        if cast(CursorResult[Any], touched).rowcount == 0:
            _create_head(session, dialect)
    elif dialect == "postgresql":
        query = query.with_for_update()
    row = session.execute(query).first()
    if row is None:
        _create_head(session, dialect)
        row = session.execute(query).one()
    return int(row.seq), str(row.hash)


def _create_head(session: Session, dialect: str) -> None:
    """The head of an empty chain; refused when entries exist (the head was removed behind our back)."""
    values = {"id": HEAD_ID, "seq": 0, "hash": ZERO_HASH}
    # Two instances starting an empty chain at once: one row wins, the other waits for it and
    # goes on with the winner's head (so it must not mistake the winner's entries for an attack).
    if dialect in ("postgresql", "sqlite"):
        upsert = conflict_insert(session)(_head)
        inserted = upsert.values(values).on_conflict_do_nothing().returning(_head.c.id)
        created = session.execute(inserted).first() is not None  # rowcount is not reliable for INSERT
    else:
        session.execute(_head.insert().values(values))
        created = True
    last = (
        session.scalar(select(_entries.c.seq).order_by(_entries.c.seq.desc()).limit(1)) if created else None
    )
    if last is not None:
        raise AuditChainError(
            f"the audit head is missing while entries up to seq {last} exist; run `hallwatch audit verify`"
        )


def latest_entries(session: Session, *, limit: int) -> list[AuditEntry]:
    """The newest entries, oldest first."""
    rows = session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq.desc(), AuditEntry.id.desc()).limit(limit)
    )
    return list(reversed(rows.all()))
