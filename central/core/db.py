"""Database engine, sessions and the declarative base shared by all table models."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

if TYPE_CHECKING:
    from central.core.config import Settings

logger = logging.getLogger(__name__)

ConflictInsert = Callable[[Any], PostgresInsert] | Callable[[Any], SqliteInsert]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A writer waits its turn this long: long enough for a busy machine (CI runs several test
    # workers beside Chromium and live encoders), where 10 s was seen to run out.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@dataclass(frozen=True)
class PoolSize:
    """An engine's connection pool (PostgreSQL, or an SQLite file). Requests hold sessions through
    fewer slots than the pool has connections (central.core.session_slots): a sync request keeps its
    connection between its steps while it waits for a worker thread, and more such requests than
    connections wedged central (every thread waiting for a connection held by a request waiting for a
    thread). A thread that finds none gets an error after `timeout` seconds (answered 503)."""

    size: int = 5
    overflow: int = 10
    timeout: float = 30.0


def make_engine(url: str, *, echo: bool = False, pool: PoolSize | None = None) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        sized: dict[str, Any] = {}
        if pool is not None and parsed.database and parsed.database != ":memory:":
            sized = {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": pool.timeout}
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False}, **sized)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    pool = pool or PoolSize()
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.timeout,
    )


def settings_engine(settings: Settings) -> Engine:
    """The engine a deployment's settings describe, its pool sized by them (serve and the app factory)."""
    pool = PoolSize(settings.db_pool_size, settings.db_pool_overflow, settings.db_pool_timeout_seconds)
    return make_engine(settings.database_url, echo=settings.sql_echo, pool=pool)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


def conflict_insert(session: Session) -> ConflictInsert:
    """The INSERT of the session's database that knows ON CONFLICT (PostgreSQL's or SQLite's: the two
    central runs on), for upserts and for inserts that skip what is already there."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
