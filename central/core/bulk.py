"""Bulk inserts of many rows in one statement, with their ids drawn first.

An outbox drained after an outage brings thousands of rows a second (ratings and keypad presses,
`central.ratings.ingest`). On PostgreSQL an executemany still costs one Bind/Execute (and one
executor start on the server) per row, and SQLAlchemy prepares each row's parameters in Python;
`INSERT … SELECT … FROM unnest(array, array, …)` sends one array per column and inserts every row in
one statement. The arrays go in PostgreSQL's binary format (psycopg's ``%b`` placeholder): its text
format quotes and escapes every element in Python, about six times slower, which for a drained
outbox was a tenth of central's time. Elsewhere (SQLite) the DB-API executemany is already a loop in C.

Ids are drawn before the insert so callers can refer to the rows (foreign keys, audit targets)
without ``RETURNING`` in parameter order, which builds a huge VALUES statement in Python. On
PostgreSQL they come from the table's sequence. On SQLite they follow the largest stored id: a
writer that commits rows in between makes this insert fail on the primary key (IntegrityError), and
callers decide their batch again, as for any concurrent write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column, Dialect, String, Table, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from central.core.db import Base

logger = logging.getLogger(__name__)


def draw_ids(session: Session, model: type[Base], count: int) -> list[int]:
    """`count` new primary-key values of `model`'s table (an integer `id` column), in increasing order."""
    table = _table(model)
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
        return list(session.scalars(query, {"table": table.name, "n": count}))
    last = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    return list(range(last + 1, last + count + 1))


def insert_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (each naming the same columns) into `model`'s table in the caller's transaction."""
    if not rows:
        return
    table = _table(model)
    dialect = session.get_bind().dialect
    names = list(rows[0])
    columns = [_column_values(table.c[name], rows, dialect) for name in names]
    target = f"{table.name} ({', '.join(dialect.identifier_preparer.quote(name) for name in names)})"
    connection = session.connection()
    if dialect.name == "postgresql":
        statement, params = _unnest_insert(table, target, dict(zip(names, columns, strict=True)), dialect)
        connection.exec_driver_sql(statement, params)
    else:  # SQLite: the DB-API's executemany (qmark style), values processed as the ORM would
        statement = f"INSERT INTO {target} VALUES ({', '.join('?' for _ in names)})"
        connection.exec_driver_sql(statement, list(zip(*columns, strict=True)))


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table), f"{model.__name__} is not mapped to one table"
    return table


def _unnest_insert(
    table: Table, target: str, columns: dict[str, list[Any]], dialect: Dialect
) -> tuple[str, dict[str, Any]]:
    """``INSERT … SELECT … FROM unnest(…)`` for psycopg (``%(name)b``: a binary parameter): one array
    per column that varies, one value for a column that is the same in every row (the time received,
    the hall, a default): fewer values to encode."""
    params: dict[str, Any] = {}
    arrays: list[str] = []
    selected: list[str] = []
    for index, (name, values) in enumerate(columns.items()):
        sql_type = _unbounded(table.c[name].type).compile(dialect)
        if all(value == values[0] for value in values):
            params[f"v{index}"] = values[0]
            selected.append(f"CAST(%(v{index})b AS {sql_type})")
        else:
            params[f"a{index}"] = values
            arrays.append(f"CAST(%(a{index})b AS {sql_type}[])")
            selected.append(f"u.c{len(arrays)}")
    count = len(next(iter(columns.values())))
    source = (
        f"unnest({', '.join(arrays)}) AS u({', '.join(f'c{n}' for n in range(1, len(arrays) + 1))})"
        if arrays
        else f"generate_series(1, {count:d})"
    )
    statement = f"INSERT INTO {target} SELECT {', '.join(selected)} FROM {source}"
    return statement, params


def _unbounded(column_type: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type to cast a parameter to: strings without their length. An explicit CAST to
    varchar(n) cuts a longer value silently; the insert's own assignment to the column refuses it
    ("value too long"), as a plain INSERT would."""
    if isinstance(column_type, String) and column_type.length is not None:
        return String()
    return column_type


def _column_values(column: Column[Any], rows: Sequence[dict[str, Any]], dialect: Dialect) -> list[Any]:
    """One column's values, through the column type's bind processing (e.g. aware UTC times)."""
    # The dialect's own processing (SQLite: times as SQLAlchemy's text, not sqlite3's default adapter).
    process: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).bind_processor(dialect)
    values = [row[column.name] for row in rows]
    return values if process is None else [process(v) for v in values]
