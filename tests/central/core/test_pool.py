"""A request that finds every pooled connection busy waits `db_pool_timeout_seconds`, then is answered
503 with Retry-After (agents send again from their outbox), never left waiting with its thread: the
soak (bench/soak.py) wedged central when threads waited on a pool held by requests waiting for threads.
PostgreSQL only: the pool's size is a PostgreSQL engine's (SQLite has one writer and no server)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, QueuePool

from central.app import create_app
from central.cli.common import migrated_engine
from central.core.config import Settings
from tests.conftest import ROOT_PASSWORD, SignedIn, make_user


def test_a_request_finding_the_pool_busy_is_answered_503_then_served(db: Engine, settings: Settings) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("the pool's size and timeout are PostgreSQL's (SQLite: one writer, no server)")
    make_user(db, "root", password=ROOT_PASSWORD)
    tight = settings.model_copy(
        update={"db_pool_size": 1, "db_pool_overflow": 0, "db_pool_timeout_seconds": 0.5}
    )
    app = create_app(tight)  # its own engine, built from the settings
    pool = app.state.engine.pool
    assert pool.size() == 1, "the app's engine has the configured pool"
    with TestClient(app) as client:
        client.auth = SignedIn("root", ROOT_PASSWORD)
        assert client.get("/api/v1/regions").status_code == 200  # signed in while the pool is free
        held = app.state.engine.connect()  # another request holding the only connection
        try:
            busy = client.get("/api/v1/regions")
        finally:
            held.close()
        assert busy.status_code == 503, busy.text
        assert busy.headers["Retry-After"] == "1"
        assert "数据库繁忙" in busy.json()["detail"]
        assert client.get("/api/v1/regions").status_code == 200  # served again once it is free
    app.state.engine.dispose()


def test_serve_runs_on_a_pool_sized_by_the_settings(db: Engine, settings: Settings) -> None:
    """`hallwatch serve` builds its engine itself (migrated first): it once ignored the pool settings
    and ran on SQLAlchemy's 5 + 10, fewer connections than request session slots (a wedge)."""
    sized = settings.model_copy(
        update={"db_pool_size": 7, "db_pool_overflow": 3, "db_pool_timeout_seconds": 2}
    )
    engine = migrated_engine(sized)
    try:
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.size() == 7
        assert engine.pool.timeout() == 2
    finally:
        engine.dispose()
