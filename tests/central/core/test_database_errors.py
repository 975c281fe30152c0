"""Central with its database away (refused, as while PostgreSQL restarts) answers 503 with
Retry-After on every kind of route, never a 500: agents send again, screens reconnect, pages are
reloaded. A statement central got wrong stays a 500. No database fixture: the point is that there is
no database to reach."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.core.config import Settings
from tests.edge.contract import free_port

DEVICE_KEY = "hwk_" + "0" * 16 + "_" + "A" * 43
BATCH = {"observations": []}


@pytest.fixture
def away(tmp_path: Path) -> TestClient:
    """A central whose PostgreSQL refuses connections (a loopback port nobody listens on)."""
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/hallwatch"
    app = create_app(Settings(database_url=url, db_pool_timeout_seconds=1))
    return TestClient(app, raise_server_exceptions=False)  # no lifespan: nothing to listen to


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/v1/regions", {"Authorization": "Bearer not-checked-yet"}),  # a dependency's query
        ("POST", "/api/v1/device/observations", {"X-Device-Key": DEVICE_KEY}),  # before the body is read
        ("GET", "/api/v1/public/halls/H001/progress", {}),  # a hall screen's own session
        ("GET", "/api/v1/device/time", {"X-Device-Key": DEVICE_KEY}),
    ],
)
def test_a_request_while_the_database_is_away_is_answered_503(
    away: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    answer = away.request(method, path, headers=headers, json=BATCH if method == "POST" else None)
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "2"
    assert "数据库暂时不可用" in answer.json()["detail"]


def test_a_statement_central_got_wrong_is_still_a_500(tmp_path: Path) -> None:
    """sqlite3 reports a missing table as an OperationalError too: that is central's fault (here, a
    database never migrated), not a passing outage to retry."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'never-migrated.db'}"))
    client = TestClient(app, raise_server_exceptions=False)
    answer = client.get("/api/v1/regions", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 500
