"""`central.core.bulk`: rows go in exactly as given (PostgreSQL: through `unnest` arrays, where text
with quotes, braces, commas and backslashes must survive array quoting), ids are drawn in order, and
a writer that took the drawn ids first makes the insert fail cleanly (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from central.audit.models import AuditEntry
from central.core.bulk import draw_ids, insert_rows
from central.core.db import make_session_factory

TABLE = AuditEntry  # no foreign keys; text, nullable text, big integers and UTC times
T0 = datetime(2026, 11, 28, 8, 30, 15, 123456, tzinfo=UTC)
AWKWARD = ['{"a": 1}', "a,b", "{x}", 'say "hi"', "back\\slash", "NULL", "", " ", "中文，标点", "it's", "\t\n"]


def _row(entry_id: int, text: str | None, *, at: datetime = T0) -> dict[str, Any]:
    return {
        "id": entry_id,
        "seq": 10**12 + entry_id,  # past 32 bits
        "at": at,
        "actor": (text or "-")[:200],  # the column's length
        "remote_addr": None,
        "action": "test.bulk",
        "target_type": "t",
        "target_id": str(entry_id),
        "before": text,
        "after": None if text is None else text * 2,
        "prev_hash": "0" * 64,
        "hash": f"{entry_id:064d}",
    }


def _stored(session: Session) -> list[dict[str, Any]]:
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    return [{column: getattr(e, column) for column in _row(0, None)} for e in entries]


def test_rows_are_stored_exactly_as_given(session: Session) -> None:
    ids = draw_ids(session, TABLE, len(AWKWARD) + 1)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    rows = [_row(i, text) for i, text in zip(ids, [*AWKWARD, None], strict=True)]
    rows[0]["at"] = T0.astimezone(UTC) + timedelta(hours=8)  # any aware time, stored as UTC
    insert_rows(session, TABLE, rows)
    session.commit()
    assert _stored(session) == rows


def test_times_are_stored_as_the_orm_stores_them(session: Session) -> None:
    """On SQLite a time is text: a bulk row must sort and compare like an ORM row (a whole second
    keeps its ".000000"), or range queries and ORDER BY would mix two formats."""
    on_the_second = T0.replace(microsecond=0)
    by_orm = AuditEntry(**_row(1, "orm", at=on_the_second))
    session.add(by_orm)
    session.flush()
    insert_rows(session, TABLE, [_row(2, "bulk", at=on_the_second)])
    session.commit()
    stored = session.execute(text("SELECT at FROM audit_entries ORDER BY id")).scalars().all()
    assert len(stored) == 2 and stored[0] == stored[1]


def test_ids_follow_the_stored_ones(session: Session) -> None:
    first = draw_ids(session, TABLE, 3)
    insert_rows(session, TABLE, [_row(i, "x") for i in first])
    session.commit()
    following = draw_ids(session, TABLE, 2)
    assert min(following) > max(first)
    assert draw_ids(session, TABLE, 0) == []


def test_no_rows_is_no_statement(session: Session) -> None:
    insert_rows(session, TABLE, [])
    session.commit()
    assert _stored(session) == []


def test_a_writer_that_took_the_ids_first_makes_the_insert_fail_whole(db: Engine, session: Session) -> None:
    """On SQLite the ids follow the largest stored one: another writer committing in between takes
    them, and this insert must fail on the key (the caller decides its batch again), not mix rows."""
    ids = draw_ids(session, TABLE, 2)
    if db.dialect.name == "postgresql":
        pytest.skip("PostgreSQL draws from the sequence: nobody else can take them")
    with make_session_factory(db)() as other:
        insert_rows(other, TABLE, [_row(ids[1], "theirs")])
        other.commit()
    with pytest.raises(IntegrityError):
        insert_rows(session, TABLE, [_row(i, "ours") for i in ids])
    session.rollback()
    assert [row["actor"] for row in _stored(session)] == ["theirs"]


def test_a_value_too_long_for_its_column_is_refused_never_cut(db: Engine, session: Session) -> None:
    """PostgreSQL: an explicit CAST to varchar(200) would cut the 201st character off silently."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite keeps any length (the API's models bound every field)")
    ids = draw_ids(session, TABLE, 2)
    rows = [{**_row(i, "x"), "actor": "a" * 201} for i in ids]
    with pytest.raises(DataError, match="too long"):
        insert_rows(session, TABLE, rows)
    session.rollback()
    one = draw_ids(session, TABLE, 1)
    with pytest.raises(DataError, match="too long"):
        insert_rows(session, TABLE, [{**_row(one[0], "x"), "actor": "b" * 201}])  # one value, not an array
    session.rollback()
    assert _stored(session) == []


# Any text a database can hold: no NUL (PostgreSQL refuses it: central answers 422) and no lone
# surrogates (not Unicode: no driver encodes them; request validation refuses them with a 422, see
# test_observations_api).
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.one_of(st.none(), TEXT), min_size=1))
def test_any_text_round_trips(session: Session, texts: list[str | None]) -> None:
    ids = draw_ids(session, TABLE, len(texts))
    rows = [_row(i, text) for i, text in zip(ids, texts, strict=True)]
    insert_rows(session, TABLE, rows)
    session.flush()
    stored = {row["id"]: row for row in _stored(session)}
    assert [stored[i] for i in ids] == rows
    session.rollback()
