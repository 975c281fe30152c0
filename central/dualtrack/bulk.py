"""Inserting a day's thousands of rows at once, skipping those whose unique key exists.

PostgreSQL: COPY into a temporary table shaped like the target's columns, then one
``INSERT … SELECT … ORDER BY … ON CONFLICT DO NOTHING RETURNING`` — a parameterised multi-row
INSERT of 10,000 rows spends seconds in the driver just splitting its query text. The ORDER BY
makes every instance take the unique keys in one order, so two of them never deadlock. SQLite: one
executemany INSERT … ON CONFLICT DO NOTHING RETURNING (its driver does that natively and fast).
Both in the session's transaction, committing nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Column, Table, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)


def insert_new(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str],
    order_by: Sequence[str],
    returning: Sequence[Column[Any]],
) -> list[tuple[Any, ...]]:
    """Insert `rows` (dicts with the same keys), skipping conflicts on `conflict`; the `returning`
    columns of the rows inserted."""
    if not rows:
        return []
    if session.get_bind().dialect.name != "postgresql":
        statement = (
            sqlite_insert(table).on_conflict_do_nothing(index_elements=list(conflict)).returning(*returning)
        )
        return [tuple(row) for row in session.execute(statement, list(rows))]
    columns = list(rows[0])
    staged = f"staged_{table.name}"
    names = ", ".join(columns)
    session.execute(text(f"CREATE TEMPORARY TABLE {staged} AS SELECT {names} FROM {table.name} WITH NO DATA"))
    as_json = {c for c in columns if isinstance(table.c[c].type, JSON)}
    driver = session.connection().connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {staged} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [json.dumps(row[c], ensure_ascii=False) if c in as_json else row[c] for c in columns]
            )
    select_staged = text(f"SELECT {names} FROM {staged} ORDER BY {', '.join(order_by)}").columns(
        *(table.c[c] for c in columns)
    )
    statement = (
        pg_insert(table)
        .from_select(columns, select_staged)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(*returning)
    )
    inserted = [tuple(row) for row in session.execute(statement)]
    session.execute(text(f"DROP TABLE {staged}"))
    return inserted


__all__ = ["insert_new"]
