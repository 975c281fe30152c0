"""Bulk loading of generated columns: numpy arrays in, COPY (PostgreSQL) or one executemany
transaction (SQLite) out, formatted as SQLAlchemy itself would store them, so the application reads
the rows exactly as if it had written them.

Generated columns are numpy arrays, one per table column: integers and floats as numbers, dates as
proleptic ordinals, moments as UTC epoch seconds, booleans as bool, text as object arrays; NULL is
`NULL` in integer arrays (dates and moments included), NaN in float arrays and None in object ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Boolean, Date, DateTime, Engine, Float, Table, text
from sqlalchemy.types import TypeDecorator

from central.core.db import Base

logger = logging.getLogger(__name__)

NULL = -999_999  # a missing integer, date or moment in a generated integer column
CHUNK = 50_000
Columns = dict[str, np.ndarray]


class Rows:
    """One table's generated rows, added in chunks; each chunk takes the next ids."""

    def __init__(self, table: str, *, first_id: int = 1) -> None:
        self.table = table
        self.next_id = first_id
        self.chunks: list[tuple[int, dict[str, Any]]] = []

    def add(self, n: int, **columns: Any) -> np.ndarray:
        """Rows with `columns` (arrays of length n, or one value for every row); answers their ids."""
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        if n:
            self.chunks.append((n, {"id": ids, **columns}))
        return ids

    def __len__(self) -> int:
        return self.next_id - 1

    def columns(self) -> Columns:
        """Every chunk's columns end to end; a column some chunk left out is NULL there."""
        names = list(dict.fromkeys(name for _, chunk in self.chunks for name in chunk))
        out: Columns = {}
        for name in names:
            parts = [_column(n, chunk.get(name)) for n, chunk in self.chunks]
            typed = [p for p in parts if p is not None]
            numeric = typed and all(p.dtype != object for p in typed)
            dtype = np.result_type(*typed) if numeric else np.dtype(object)
            out[name] = np.concatenate(
                [
                    _null_fill(n, dtype) if p is None else p
                    for (n, _), p in zip(self.chunks, parts, strict=True)
                ]
            )
        return out


def _column(n: int, value: Any) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        assert len(value) == n, "a generated column of the wrong length"
        return value
    if isinstance(value, str):
        return np.full(n, value, dtype=object)
    return np.full(n, value)


def _null_fill(n: int, dtype: np.dtype[Any]) -> np.ndarray:
    if dtype.kind in "iu":
        return np.full(n, NULL, dtype=dtype)
    if dtype.kind == "f":
        return np.full(n, np.nan, dtype=dtype)
    if dtype.kind == "b":
        raise ValueError("a boolean column must be given for every chunk")
    return np.full(n, None, dtype=object)


def _kind(table: Table, name: str) -> str:
    sql_type = table.c[name].type
    base = sql_type.impl if isinstance(sql_type, TypeDecorator) else sql_type
    if isinstance(base, DateTime):
        return "moment"
    if isinstance(base, Date):
        return "date"
    if isinstance(base, Boolean):
        return "bool"
    if isinstance(base, Float):
        return "float"
    return "value"


def _cells(kind: str, values: np.ndarray, *, postgres: bool) -> list[Any]:
    """A column's values as the driver takes them (COPY: text; SQLite: Python values), NULL as None."""
    if kind == "moment":
        missing = values == NULL
        stamps = np.datetime_as_string(np.where(missing, 0, values).astype("datetime64[s]"), unit="s")
        stamps = np.char.add(np.char.replace(stamps, "T", " "), "+00" if postgres else ".000000")
        return _nulled(stamps, missing)
    if kind == "date":
        unique, inverse = np.unique(values, return_inverse=True)
        labels = np.array(
            [None if v == NULL else date.fromordinal(int(v)).isoformat() for v in unique], dtype=object
        )
        return labels[inverse.reshape(-1)].tolist()  # type: ignore[no-any-return]
    if kind == "bool":
        return ["t" if v else "f" for v in values.tolist()] if postgres else values.astype(int).tolist()
    if values.dtype.kind in "iu":
        return _nulled(values, values == NULL)
    if values.dtype.kind == "f":
        return _nulled(values, np.isnan(values))
    return values.tolist()  # type: ignore[no-any-return]


def _nulled(values: np.ndarray, missing: np.ndarray) -> list[Any]:
    out = values.astype(object)
    out[missing] = None
    return out.tolist()  # type: ignore[no-any-return]


def text_where(mask: np.ndarray, value: str | np.ndarray) -> np.ndarray:
    """Text (one value, or an array's) where `mask`, NULL elsewhere."""
    out = np.full(len(mask), None, dtype=object)
    out[mask] = value if isinstance(value, str) else value[mask]
    return out


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)


class Loader:
    """Inserts generated tables over one raw connection; committed once, at the end of `bulk_load`."""

    def __init__(self, raw: Any, *, postgres: bool) -> None:
        self.raw, self.postgres = raw, postgres
        self.loaded: dict[str, int] = {}

    def insert(self, rows: Rows | tuple[str, Columns]) -> None:
        name, columns = (rows.table, rows.columns()) if isinstance(rows, Rows) else rows
        if not columns:
            return
        table = Base.metadata.tables[name]
        names = list(columns)
        cells = [_cells(_kind(table, c), columns[c], postgres=self.postgres) for c in names]
        n = len(cells[0])
        if self.postgres:
            sql = f"COPY {name} ({', '.join(names)}) FROM STDIN"
            with self.raw.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
                for start in range(0, n, CHUNK):
                    batch = zip(*(column[start : start + CHUNK] for column in cells), strict=True)
                    copy.write("".join("\t".join(map(_copy_text, row)) + "\n" for row in batch))
        else:
            sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            cursor = self.raw.cursor()
            for start in range(0, n, CHUNK):
                cursor.executemany(
                    sql, list(zip(*(column[start : start + CHUNK] for column in cells), strict=True))
                )
        self.loaded[name] = self.loaded.get(name, 0) + n
        logger.debug("loaded %d rows into %s", n, name)


@contextmanager
def bulk_load(engine: Engine) -> Iterator[Loader]:
    """A loader on one raw connection; on success commits, moves PostgreSQL's id sequences past the
    ids given, and analyses the database. The connection (and SQLite's pragmas) dies with it."""
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        if not postgres:
            cursor = raw.cursor()
            cursor.execute("PRAGMA synchronous=OFF")  # generation only: the connection is disposed
            cursor.execute("PRAGMA cache_size=-262144")
        loader = Loader(raw, postgres=postgres)
        yield loader
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if postgres:
            for name in loader.loaded:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                    )
                )
            conn.execute(text("VACUUM (ANALYZE)"))
        else:
            conn.execute(text("ANALYZE"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
