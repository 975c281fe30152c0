"""The audit hash chain: appends link up, roll back with their change, and verify names the first
entry that was altered, deleted or slipped in behind the application's back."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from central.audit.chain import record, verify
from central.audit.hashing import ZERO_HASH, canonical_json, canonical_payload
from central.audit.models import AuditEntry
from central.core.actor import Actor
from central.core.db import make_session_factory
from tests.central.audit.helpers import ALICE, ENTRIES, HEAD, T0, N, build_chain, forged, rows, stored_hash

# --- appending -------------------------------------------------------------------------------


def test_entries_link_into_a_chain_and_the_head_follows(db: Engine) -> None:
    build_chain(db, 3)
    with db.connect() as conn:
        found = rows(conn)
        head = conn.execute(select(HEAD.c.seq, HEAD.c.hash)).one()
    assert [r["seq"] for r in found] == [1, 2, 3]
    assert found[0]["prev_hash"] == ZERO_HASH
    assert [r["prev_hash"] for r in found[1:]] == [r["hash"] for r in found[:-1]]
    assert tuple(head) == (3, found[-1]["hash"])
    first = found[0]
    assert (first["actor"], first["remote_addr"], first["at"]) == (
        "user:alice",
        "10.1.2.3",
        T0 + timedelta(minutes=1),
    )
    # The hash is SHA-256 of the canonical JSON of the stored fields, then the previous hash.
    reference = json.dumps(
        {
            "seq": 1,
            "at": "2026-11-27T02:01:00.123456+00:00",
            "actor": "user:alice",
            "remote_addr": "10.1.2.3",
            "action": "case.events.stored",
            "target_type": "case",
            "target_id": "C1",
            "before": None,
            "after": '{"events":[{"event_id":"e1","type":"accepted"}],"status":"accepted"}',
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert first["after"] == '{"events":[{"event_id":"e1","type":"accepted"}],"status":"accepted"}'
    assert first["hash"] == hashlib.sha256((reference + ZERO_HASH).encode()).hexdigest()


text_values = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    seq=st.integers(1, 2**62),
    fields=st.lists(text_values, min_size=4, max_size=4),
    remote=st.none() | text_values,
    before=st.none() | text_values,
    after=st.none() | text_values,
)
def test_the_fast_payload_is_exactly_json_dumps(
    seq: int, fields: list[str], remote: str | None, before: str | None, after: str | None
) -> None:
    actor, action, target_type, target_id = fields
    values: dict[str, Any] = {
        "seq": seq,
        "at": "2026-11-27T02:00:00.000001+00:00",
        "actor": actor,
        "remote_addr": remote,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "before": before,
        "after": after,
    }
    reference = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_payload(**values) == reference


def test_a_rolled_back_write_leaves_no_entry(db: Engine, session: Session) -> None:
    record(session, actor=ALICE, action="x.tried", target_type="t", target_id="1", at=T0)
    session.rollback()
    assert session.scalar(select(AuditEntry.id)) is None
    record(session, actor=ALICE, action="x.done", target_type="t", target_id="1", after={"n": 1}, at=T0)
    session.commit()
    assert session.scalars(select(AuditEntry.seq)).all() == [1]
    assert verify(session).ok


def test_values_are_stored_as_canonical_json(session: Session) -> None:
    entry = record(
        session,
        actor=ALICE,
        action="calendar.year_entered",
        target_type="calendar_year",
        target_id="2027",
        after={"b": [1, 2], "a": "中文", "when": datetime(2027, 1, 1, 8, tzinfo=UTC)},
        at=T0,
    )
    session.commit()
    assert entry.before is None
    assert entry.after == '{"a":"中文","b":[1,2],"when":"2027-01-01T08:00:00.000000+00:00"}'
    with pytest.raises(ValueError, match="aware"):
        record(session, actor=ALICE, action="a", target_type="t", target_id="1", at=datetime(2026, 1, 1))


def test_concurrent_writers_do_not_fork_the_chain(db: Engine) -> None:
    factory = make_session_factory(db)
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            with factory() as session:
                for i in range(15):
                    actor = Actor(kind="system", name=f"worker{worker}")
                    record(session, actor=actor, action="x.y", target_type="t", target_id=str(i), at=T0)
                    session.commit()
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with db.connect() as conn:
        result = verify(conn)
        assert [r["seq"] for r in rows(conn)] == list(range(1, 61))
    assert result.ok and result.checked == 60


# --- verifying -------------------------------------------------------------------------------


def test_an_intact_chain_verifies(db: Engine) -> None:
    with db.connect() as conn:
        assert verify(conn).ok  # nothing recorded yet
    build_chain(db)
    seen: list[tuple[int, int]] = []
    with db.connect() as conn:
        result = verify(conn, progress=lambda done, total: seen.append((done, total)), chunk=4)
    assert result.ok and result.checked == N and result.head_seq == N
    assert seen[-1] == (N, N)


def test_times_verify_whatever_their_fraction_and_spelling(db: Engine, attacker: Engine) -> None:
    """PostgreSQL prints 02:00:00.12 for .120000 and no fraction for whole seconds; a time written
    in another spelling of the same instant (behind the application's back) is still that instant."""
    with make_session_factory(db)() as session:
        for at in (T0.replace(microsecond=0), T0.replace(microsecond=120000), T0, T0.replace(microsecond=5)):
            record(session, actor=ALICE, action="x.y", target_type="t", target_id="1", at=at)
        session.commit()
    with db.connect() as conn:
        assert verify(conn).ok
    if db.dialect.name == "sqlite":
        with db.begin() as conn:
            conn.execute(text("UPDATE audit_entries SET at = '2026-11-27T02:00:00.12' WHERE seq = 2"))
        with db.connect() as conn:
            assert verify(conn).ok


def test_the_database_refuses_to_update_or_delete_entries(db: Engine, session: Session) -> None:
    build_chain(db, 2)
    for statement in (
        "UPDATE audit_entries SET actor = 'user:mallory' WHERE seq = 1",
        "DELETE FROM audit_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert verify(session).ok


Tamper = Callable[[Connection, list[dict[str, Any]]], None]


def _set(seq: int, **values: Any) -> Tamper:
    def tamper(conn: Connection, _found: list[dict[str, Any]]) -> None:
        conn.execute(update(ENTRIES).where(ENTRIES.c.seq == seq).values(**values))

    return tamper


def _shift_at(conn: Connection, found: list[dict[str, Any]]) -> None:
    conn.execute(
        update(ENTRIES).where(ENTRIES.c.seq == 3).values(at=found[2]["at"] + timedelta(microseconds=1))
    )


def _delete(seq: int) -> Tamper:
    def tamper(conn: Connection, _found: list[dict[str, Any]]) -> None:
        conn.execute(delete(ENTRIES).where(ENTRIES.c.seq == seq))

    return tamper


def _duplicate_3(conn: Connection, found: list[dict[str, Any]]) -> None:
    conn.execute(insert(ENTRIES).values(**forged(3, found[1]["hash"])))


def _slip_in_and_renumber(conn: Connection, found: list[dict[str, Any]]) -> None:
    """Move entries 3… one place up, rehash each so it is self-consistent, slip a forged 3 in,
    and move the head along: only the links between entries can tell."""
    for row in reversed(found[2:]):
        moved = {**row, "seq": row["seq"] + 1}
        moved_hash = stored_hash(moved, row["prev_hash"])
        conn.execute(
            update(ENTRIES).where(ENTRIES.c.id == row["id"]).values(seq=moved["seq"], hash=moved_hash)
        )
        if row is found[-1]:
            conn.execute(update(HEAD).values(seq=moved["seq"], hash=moved_hash))
    conn.execute(insert(ENTRIES).values(**forged(3, found[1]["hash"])))


def _append_after_the_head(conn: Connection, found: list[dict[str, Any]]) -> None:
    conn.execute(insert(ENTRIES).values(**forged(N + 1, found[-1]["hash"])))


def _rewrite_3_and_rehash(conn: Connection, found: list[dict[str, Any]]) -> None:
    row = {**found[2], "after": canonical_json({"status": "completed"})}
    conn.execute(
        update(ENTRIES)
        .where(ENTRIES.c.seq == 3)
        .values(after=row["after"], hash=stored_hash(row, row["prev_hash"]))
    )


@pytest.mark.parametrize(
    ("tamper", "seq", "reason"),
    [
        pytest.param(_set(3, after='{"status":"completed"}'), 3, "altered", id="after-of-3-edited"),
        pytest.param(_set(3, actor="user:bob"), 3, "altered", id="actor-of-3-edited"),
        pytest.param(_set(3, before=None), 3, "altered", id="before-of-3-cleared"),
        pytest.param(_shift_at, 3, "altered", id="time-of-3-moved-one-microsecond"),
        pytest.param(_set(3, prev_hash="f" * 64), 3, "altered", id="prev-hash-of-3-edited"),
        pytest.param(_delete(3), 3, "deleted", id="3-deleted"),
        pytest.param(_delete(1), 1, "deleted", id="first-deleted"),
        pytest.param(_duplicate_3, 3, "inserted", id="forged-duplicate-of-3"),
        pytest.param(_slip_in_and_renumber, 3, "inserted", id="forged-3-and-the-rest-renumbered"),
        pytest.param(_rewrite_3_and_rehash, 4, "inserted", id="3-rewritten-with-a-fresh-hash"),
        pytest.param(_append_after_the_head, N + 1, "inserted", id="forged-entry-after-the-last"),
        pytest.param(
            lambda conn, found: conn.execute(insert(ENTRIES).values(**forged(0, found[0]["prev_hash"]))),
            0,
            "inserted",
            id="forged-entry-numbered-0",
        ),
        pytest.param(_delete(N), N, "deleted", id="last-deleted"),
        pytest.param(
            lambda conn, _found: conn.execute(update(HEAD).values(hash="a" * 64)),
            N,
            "head mismatch",
            id="head-hash-edited",
        ),
        pytest.param(
            lambda conn, _found: conn.execute(delete(HEAD)), N, "head mismatch", id="head-row-deleted"
        ),
    ],
)
@pytest.mark.parametrize("chunk", [2, 20_000], ids=["pages-of-2", "one-page"])
def test_tampering_is_found_at_the_first_bad_entry(
    attacker: Engine, tamper: Tamper, seq: int, reason: str, chunk: int
) -> None:
    build_chain(attacker)
    with attacker.begin() as conn:
        tamper(conn, rows(conn))
    with attacker.connect() as conn:
        result = verify(conn, chunk=chunk)
    assert result.bad is not None, "tampering went unnoticed"
    assert (result.bad.seq, result.bad.reason) == (seq, reason), result.bad.detail


def test_a_missing_head_stops_further_appends(attacker: Engine, session: Session) -> None:
    build_chain(attacker, 2)
    with attacker.begin() as conn:
        conn.execute(delete(HEAD))
    with pytest.raises(RuntimeError, match="audit head is missing"):
        record(session, actor=ALICE, action="x.y", target_type="t", target_id="1", at=T0)
