"""The device channel while central's database hangs or is away, over real uvicorn with its WebSocket
keepalive on and the real `websockets` client (which answers uvicorn's pings by itself).

The instance under test has an engine of its own, with a fault at the driver's edge (`DatabaseFault`):
its statements wait (a lock, a pool with no connection free) or fail as PostgreSQL's do while it
restarts. The rest of the deployment (the case system queuing prompts) keeps its database.

uvicorn stops reading a WebSocket while a message it has queued waits for the app, and then hears no
keepalive pong either: its keepalive closes the channel (1011) within a ping timeout (20 s in
`hallwatch serve`). So a channel must take every message while a ping's key check waits, and a check
that fails must not end the channel's reading. The soak found the second: after a PostgreSQL restart
a failed check had killed the reader, the agent's next message was never taken, and nine channels
were closed so.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from central.app import create_app
from central.core.config import Settings
from central.core.db import make_engine
from common.device_channel import CHANNEL_PATH, CLOSE_TRY_AGAIN
from tests.browser import serve
from tests.central.devices.helpers import edge
from tests.central.devices.test_channel import channel, close_code, receive
from tests.conftest import FakeClock
from tests.edge.contract import wait_until
from tests.edge.test_channel import Keypads, agent_channel, queue_prompt

__all__ = ["edge"]

KEEPALIVE_S = 0.3, 1.0  # uvicorn's ping interval and timeout here; `hallwatch serve` runs 20 s and 20 s
HELD_S = 3.0  # three of those keepalive timeouts


class DatabaseFault:
    """Statements on `engine` whose text names one of `tables` wait while `hold` is set (up to 30 s),
    and fail while `fail` is set; `hits` counts the statements it held or failed, by table."""

    def __init__(self, engine: Engine, *tables: str) -> None:
        self.tables = tables
        self.hold, self.fail = False, False
        self.released = threading.Event()
        self.hits: Counter[str] = Counter()
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        named = [table for table in self.tables if table in statement]
        if not named or not (self.hold or self.fail):
            return
        self.hits.update(named)
        if self.hold:
            self.released.wait(30)
        if self.fail:
            raise OperationalError(statement, None, Exception("the database system is shutting down"))

    @contextmanager
    def holding(self) -> Iterator[None]:
        self.hold = True
        self.released.clear()
        try:
            yield
        finally:
            self.hold = False
            self.released.set()

    @contextmanager
    def failing(self) -> Iterator[None]:
        self.fail = True
        try:
            yield
        finally:
            self.fail = False


@contextmanager
def instance(
    settings: Settings, db: Engine, clock: FakeClock, *tables: str
) -> Iterator[tuple[str, DatabaseFault]]:
    """A central instance on an engine of its own, with a fault on its statements about `tables`: its
    base URL and the fault."""
    own = make_engine(db.url.render_as_string(hide_password=False))
    fault = DatabaseFault(own, *tables)
    app: FastAPI = create_app(settings, engine=own, clock=clock)
    try:
        with serve(app, ws_ping_interval=KEEPALIVE_S[0], ws_ping_timeout=KEEPALIVE_S[1]) as url:
            yield url, fault
    finally:
        fault.released.set()
        app.state.notifier.stop()
        own.dispose()


def ws_url(base: str) -> str:
    return "ws" + base.removeprefix("http") + CHANNEL_PATH


def test_a_ping_whose_key_check_waits_does_not_stop_the_channel_reading(
    db: Engine, settings: Settings, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    with (
        instance(settings, db, clock, "device_keys") as (base, fault),
        channel(ws_url(base), edge["EDGE-P"]["X-Device-Key"]) as ws,
    ):
        ws.send(json.dumps({"type": "hello", "cursor": 0}))
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}
        with fault.holding():
            ws.send(json.dumps({"type": "ping"}))
            ws.send(json.dumps({"type": "ack", "cursor": 0}))  # the next message, while the check waits
            time.sleep(HELD_S)  # uvicorn pings meanwhile; its pongs must be read
        assert fault.hits["device_keys"] >= 1  # the check did wait
        assert receive(ws) == {"type": "pong"}  # answered once it could run, on a channel still open
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}


def test_a_database_that_is_away_closes_no_open_channel(
    db: Engine, settings: Settings, clock: FakeClock, client: TestClient, edge: dict[str, dict[str, str]]
) -> None:
    key = edge["EDGE-P"]["X-Device-Key"]
    with (
        instance(settings, db, clock, "device_keys", "device_commands") as (base, fault),
        channel(ws_url(base), key) as ws,
    ):
        ws.send(json.dumps({"type": "hello", "cursor": 0}))
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}
        with fault.failing():
            ws.send(json.dumps({"type": "ping"}))  # its key check fails: answered, checked at the next
            assert receive(ws) == {"type": "pong"}
            with channel(
                ws_url(base), key
            ) as refused:  # a new channel's key cannot be checked: come back later
                assert close_code(refused) == CLOSE_TRY_AGAIN
            queued = queue_prompt(client, clock, db, "C1")  # the case system's own database is fine
            wait_until(lambda: fault.hits["device_commands"] >= 1, what="reading the page to fail")
        page = receive(ws)  # read again a moment later
        assert page["type"] == "commands" and page["cursor"] == queued
        assert [c["case_no"] for c in page["commands"]] == ["C1"]
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}


def test_the_edge_backs_off_while_central_cannot_check_its_key_and_is_served_after(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The edge's own channel: closed with 1013 at each upgrade while the database is away, it counts no
    refusal (no fall-back to the long-poll, no revoked-key alarm), backs off, and gets its prompt after."""
    keypads = Keypads()
    with (
        instance(settings, db, clock, "device_keys") as (base, fault),
        fault.failing(),
        agent_channel(tmp_path, base, edge["EDGE-P"]["X-Device-Key"], clock, keypads) as agent,
    ):
        wait_until(
            lambda: fault.hits["device_keys"] >= 3, what="three upgrades whose key could not be checked"
        )
        assert agent.refused == 0 and agent.fallbacks == 0
        assert "central cannot check the device key now" in caplog.text  # backing off, not served
        fault.fail = False
        queue_prompt(client, clock, db, "C1")
        wait_until(lambda: keypads.cases == ["C1"], what="the prompt, once the key could be checked")
        assert agent.refused == 0 and agent.fallbacks == 0
