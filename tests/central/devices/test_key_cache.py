"""Device keys answered from a per-process cache (central.devices.key_cache) only while it is safe:
on PostgreSQL, with this process hearing every instance's revocations. Two central instances on one
database, as deployed: a key revoked through one is refused by the other as soon as the revocation's
NOTIFY arrives; with the LISTEN connection down, or on SQLite, every request looks the key up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from tests.central.devices.helpers import edge
from tests.edge.contract import wait_until

__all__ = ["edge"]
ME = "/api/v1/device/me"


def _key_id(headers: dict[str, str]) -> str:
    return headers["X-Device-Key"].split("_")[1]


@pytest.fixture
def key_lookups(db: Engine) -> Iterator[list[str]]:
    """The statements that looked a device key up, as the database got them."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM device_keys" in statement:
            seen.append(statement)

    event.listen(db, "before_cursor_execute", note)
    yield seen
    event.remove(db, "before_cursor_execute", note)


def _listening(client: TestClient) -> FastAPI:
    app = client.app
    assert isinstance(app, FastAPI)
    assert app.state.notifier.wait_listening(30)
    return app


def test_a_known_key_is_looked_up_once_while_every_instance_is_heard(
    db: Engine, anon: TestClient, edge: dict[str, dict[str, str]], key_lookups: list[str]
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("the cache is PostgreSQL's: on SQLite a revocation by the CLI is heard by no one")
    app = _listening(anon)
    for _ in range(5):
        assert anon.get(ME, headers=edge["EDGE-P"]).status_code == 200
    assert len(key_lookups) == 1, "looked up once, then answered from the cache"
    assert app.state.device_keys.hits == 4
    wrong = edge["EDGE-P"]["X-Device-Key"][:-4] + "AAAA"
    assert anon.get(ME, headers={"X-Device-Key": wrong}).status_code == 401, "a wrong secret is refused"


def test_a_key_revoked_through_another_instance_is_refused_here(
    db: Engine, anon: TestClient, client: TestClient, edge: dict[str, dict[str, str]]
) -> None:
    """`anon` and `client` are two central instances on one database."""
    if db.dialect.name != "postgresql":
        pytest.skip("two instances share a database on PostgreSQL only")
    here = _listening(anon)
    _listening(client)
    assert anon.get(ME, headers=edge["EDGE-P"]).status_code == 200  # now in this instance's cache
    revoked = client.delete(f"/api/v1/devices/EDGE-P/keys/{_key_id(edge['EDGE-P'])}")
    assert revoked.status_code == 204, revoked.text
    wait_until(
        lambda: anon.get(ME, headers=edge["EDGE-P"]).status_code == 401,
        what="the other instance to refuse the revoked key",
    )
    assert here.state.device_keys.get(_key_id(edge["EDGE-P"]), "any") is None


def test_without_every_instance_heard_a_revocation_counts_at_once(
    db: Engine, anon: TestClient, edge: dict[str, dict[str, str]], key_lookups: list[str]
) -> None:
    """A revocation written where no NOTIFY tells this process (SQLite's CLI, or PostgreSQL while
    this process's LISTEN connection is down) is seen by the very next request."""
    app = _listening(anon)
    assert anon.get(ME, headers=edge["EDGE-P"]).status_code == 200
    app.state.notifier.stop()  # PostgreSQL: LISTEN down, publishes may be missed (SQLite: nothing)
    with db.begin() as conn:
        conn.execute(
            text("UPDATE device_keys SET revoked_at = CURRENT_TIMESTAMP WHERE key_id = :k"),
            {"k": _key_id(edge["EDGE-P"])},
        )
    assert anon.get(ME, headers=edge["EDGE-P"]).status_code == 401
    assert len(key_lookups) == 2, "each request looked the key up"
