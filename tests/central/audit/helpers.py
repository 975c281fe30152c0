"""A small chain, and rows written the way an attacker with database access would write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, select

from central.audit.chain import record
from central.audit.hashing import canonical_json, canonical_payload, entry_hash, iso_utc
from central.audit.models import AuditEntry, AuditHead
from central.core.actor import Actor
from central.core.db import make_session_factory

ENTRIES = cast(Table, AuditEntry.__table__)
HEAD = cast(Table, AuditHead.__table__)
ALICE = Actor(kind="user", name="alice", remote_addr="10.1.2.3")
T0 = datetime(2026, 11, 27, 2, 0, 0, 123456, tzinfo=UTC)
N = 6


def build_chain(engine: Engine, n: int = N) -> None:
    with make_session_factory(engine)() as session:
        for i in range(1, n + 1):
            record(
                session,
                actor=ALICE,
                action="case.events.stored",
                target_type="case",
                target_id=f"C{i}",
                before=None if i == 1 else {"status": "received"},
                after={"status": "accepted", "events": [{"event_id": f"e{i}", "type": "accepted"}]},
                at=T0 + timedelta(minutes=i),
            )
            session.commit()


def rows(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(ENTRIES).order_by(ENTRIES.c.seq, ENTRIES.c.id))]


def stored_hash(row: dict[str, Any], prev_hash: str) -> str:
    payload = canonical_payload(
        seq=row["seq"],
        at=iso_utc(row["at"]),
        actor=row["actor"],
        remote_addr=row["remote_addr"],
        action=row["action"],
        target_type=row["target_type"],
        target_id=row["target_id"],
        before=row["before"],
        after=row["after"],
    )
    return entry_hash(payload, prev_hash)


def forged(seq: int, prev_hash: str) -> dict[str, Any]:
    """An entry as an attacker who knows the algorithm would write it: self-consistent."""
    row = {
        "seq": seq,
        "at": T0 + timedelta(minutes=seq, seconds=30),
        "actor": "user:mallory",
        "remote_addr": None,
        "action": "case.events.stored",
        "target_type": "case",
        "target_id": "FAKE",
        "before": None,
        "after": canonical_json({"status": "completed"}),
        "prev_hash": prev_hash,
    }
    return {**row, "hash": stored_hash(row, prev_hash)}
