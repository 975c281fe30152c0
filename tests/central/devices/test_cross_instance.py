"""Two `hallwatch serve` processes on one PostgreSQL database: a prompt queued through instance A
reaches an edge agent whose channel is open to instance B (A's NOTIFY, B's LISTEN). Skipped without
HALLWATCH_TEST_DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from central.core.clock import SHANGHAI
from edge.clock import utc_now
from tests.central.cases.helpers import ev
from tests.central.devices.helpers import edge
from tests.conftest import ROOT_PASSWORD, FakeClock, make_user
from tests.edge.contract import free_port, wait_until
from tests.edge.test_channel import Keypads, agent_channel

__all__ = ["edge"]


@contextmanager
def hallwatch_serve(database_url: str) -> Iterator[str]:
    """A real `hallwatch serve` subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "HALLWATCH_DATABASE_URL": database_url, "HALLWATCH_SIGNAL_INTERVAL_SECONDS": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "central.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "hallwatch serve did not start within 60 s"
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_prompt_queued_on_one_instance_reaches_an_agent_on_the_other(
    tmp_path: Path, db: Engine, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("instances share commands through PostgreSQL only (SQLite: one process)")
    database_url = db.url.render_as_string(hide_password=False)
    make_user(db, "root", password=ROOT_PASSWORD, now=datetime.now(UTC))
    keypads = Keypads()
    key = edge["EDGE-P"]["X-Device-Key"]
    with (
        hallwatch_serve(database_url) as a,
        hallwatch_serve(database_url) as b,
        agent_channel(tmp_path, b, key, FakeClock(utc_now()), keypads) as ch,
    ):
        assert ch.connected.wait(30)
        with httpx.Client(base_url=a, timeout=30) as api:
            token = api.post("/api/v1/auth/token", data={"username": "root", "password": ROOT_PASSWORD})
            assert token.status_code == 200, token.text
            api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            yesterday = (datetime.now(UTC) - timedelta(days=1)).astimezone(SHANGHAI).isoformat()
            event = ev("C1-e1", "C1", "received", yesterday, window_code="W01", staff_code="S001")
            assert api.post("/api/v1/cases/events", json=[event]).status_code == 200
            queued = api.post("/api/v1/ratings/prompts", json={"window": "W01", "case_no": "C1"})
            assert queued.status_code == 201, queued.text
        wait_until(lambda: keypads.cases == ["C1"], what="the prompt queued on A at B's agent")
        assert (ch.opens, ch.fallbacks) == (1, 0)
