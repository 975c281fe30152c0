"""`hallwatch serve` warms the app before opening its port: every router's table is built and the
mappers configured, without a database (the warm-up request matches no route)."""

from __future__ import annotations

import gc
import logging

import pytest
from sqlalchemy import create_engine

from central.app import create_app
from central.core.config import Settings
from central.core.warmup import warm_up


def test_warm_up_needs_no_database(caplog: pytest.LogCaptureFixture) -> None:
    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # nothing listens on port 1
    app = create_app(Settings(database_url="sqlite://"), engine=unreachable)
    with caplog.at_level(logging.INFO, logger="central.core.warmup"):
        try:
            warm_up(app)
            frozen = gc.get_freeze_count()
        finally:
            gc.unfreeze()  # this is the test process, not a server: its objects must stay collectable
    assert frozen > 0  # the app's objects are out of the full collections
    assert any("routes warmed" in r.getMessage() and "(404)" in r.getMessage() for r in caplog.records)
    assert unreachable.pool.checkedout() == 0  # (a connection attempt would have raised: port 1 refuses)
