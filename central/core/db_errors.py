"""How central answers when the database, not the request, is the problem: a value it refuses is the
caller's (422); a busy pool, a lost connection or a server restarting is nobody's fault and passes
(503 with Retry-After: agents send again from their outbox, screens reconnect, pages are reloaded).
Never a 500 for either: a 500 says central is broken."""

from __future__ import annotations

import logging
import sqlite3

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)

BUSY = "数据库繁忙，请稍后重试 (database busy: try again)"
UNAVAILABLE = "数据库暂时不可用，请稍后重试 (database unavailable: try again)"
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
# What a background task (a channel, a feed) meets while the database is away or busy: it logs one line
# (`first_line`) and tries again later, no traceback.
DATABASE_AWAY = (OperationalError, InterfaceError, PoolTimeout)
# sqlite3 raises OperationalError for a bad statement too (no such table): only these pass.
SQLITE_PASSING = ("database is locked", "unable to open database file", "disk i/o error")


def first_line(exc: BaseException) -> str:
    """The driver's first line, without SQLAlchemy's statement and parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


async def data_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 for a value the database refuses to store or compare (PostgreSQL refuses NUL characters in
    text, numbers past a column's range): bad input, never a 500. The session is rolled back by its
    dependency; the database's own first line says what was wrong."""
    assert isinstance(exc, DataError)
    reason = first_line(exc)
    logger.info("request refused by the database as bad data: %s", reason)
    return JSONResponse(
        status_code=422, content={"detail": f"a value in the request cannot be used: {reason}"}
    )


async def pool_exhausted(_request: Request, exc: Exception) -> JSONResponse:
    """Every pooled connection busy for db_pool_timeout_seconds: 503 with Retry-After (the pool's wait
    is bounded, never a wedge)."""
    logger.warning("database pool exhausted: %s", exc)
    return JSONResponse(status_code=503, content={"detail": BUSY}, headers={"Retry-After": "1"})


def unavailable_response(exc: Exception) -> JSONResponse:
    logger.warning("database unavailable: %s", first_line(exc))
    return JSONResponse(status_code=503, content={"detail": UNAVAILABLE}, headers={"Retry-After": "2"})


def is_unavailable(exc: BaseException) -> bool:
    """An error of the connection or the server, not of the statement: psycopg's OperationalError
    (refused, lost, server shutting down, SQLSTATE classes 08/53/57/58), any InterfaceError, and
    sqlite3's locked or unopenable database."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if isinstance(exc.orig, sqlite3.Error):
        return any(text in str(exc.orig).lower() for text in SQLITE_PASSING)
    return True


async def database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """The connection refused or lost, the server shutting down or restarting: 503 with Retry-After."""
    if not is_unavailable(exc):
        raise exc  # a statement central got wrong: a 500, logged with its traceback
    return unavailable_response(exc)


def add_database_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DataError, data_error)
    app.add_exception_handler(PoolTimeout, pool_exhausted)
    for error in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error, database_unavailable)
