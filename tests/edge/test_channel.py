"""The edge's command channel against the real central app under uvicorn on loopback (SQLite and
PostgreSQL): prompts over the WebSocket, a connection cut mid-command, an agent dying before it keeps
the cursor, a central restart, a revoked key, another hall's key, and the long-poll fallback.
No timing assertions: each test waits (generously) for what must happen."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from central.app import create_app
from central.core.config import Settings
from central.core.db import make_session_factory
from central.devices.models import DeviceCommand
from common.device_channel import CHANNEL_PATH
from edge.central import make_client
from edge.channel import CommandChannel
from edge.commands import CommandHandler, CommandPoller
from edge.config import CentralConfig
from edge.outbox import Outbox
from rating_device.protocol import Prompt
from tests.browser import serve
from tests.central.devices.helpers import edge, served
from tests.conftest import FakeClock
from tests.edge.contract import free_port, wait_until
from tests.edge.relay import Relay

__all__ = ["edge"]
PROMPTS = "/api/v1/ratings/prompts"


@dataclass
class Keypads:
    """The agent's keypads as the handler sees them: records each case prompted."""

    cases: list[str] = field(default_factory=list)
    fail_first: bool = False

    def __call__(self, window: str, prompt: Prompt, expires_at: datetime) -> bool:
        self.cases.append(prompt.case_no)
        if self.fail_first and len(self.cases) == 1:
            raise RuntimeError("power cut while handing the prompt over")  # before the cursor is kept
        return True


@contextmanager
def agent_channel(
    tmp_path: Path,
    url: str,
    key: str,
    clock: FakeClock,
    keypads: Keypads,
    name: str = "agent",
    on_open: Callable[[], None] | None = None,
    **config: Any,
) -> Iterator[CommandChannel]:
    central = CentralConfig.model_validate(
        {
            "url": url,
            "poll_wait_seconds": 1,
            "heartbeat_seconds": 30,  # no heartbeat needed: what closes a channel here is the event itself
            "reconnect_max_seconds": 0.3,
            **config,
        }
    )
    outbox = Outbox(tmp_path / f"{name}.db")
    client = make_client(central, key, read_timeout=5)
    handler = CommandHandler(outbox, keypads, clock=clock)
    poller = CommandPoller(client, outbox, keypads, wait_seconds=1, max_backoff_seconds=0.3, handler=handler)
    channel = CommandChannel(central, key, handler, poller, on_open=on_open)
    channel.start()
    try:
        yield channel
    finally:
        channel.stop()
        client.close()
        outbox.close()


def queue_prompt(client: TestClient, clock: FakeClock, db: Engine, case_no: str) -> int:
    """A case served yesterday at W01, then a staff member's rating request: the command's id."""
    events = [served(f"{case_no}-e1", case_no, clock() - timedelta(days=1))]
    assert client.post("/api/v1/cases/events", json=events).status_code == 200
    response = client.post(PROMPTS, json={"window": "W01", "case_no": case_no})
    assert response.status_code == 201, response.text
    with make_session_factory(db)() as session:
        return int(session.scalar(select(func.max(DeviceCommand.id))) or 0)


@contextmanager
def central_app(
    settings: Settings, db: Engine, clock: FakeClock, port: int = 0
) -> Iterator[tuple[FastAPI, str]]:
    app = create_app(settings, engine=db, clock=clock)
    try:
        with serve(app, port) as url:
            yield app, url
    finally:
        app.state.notifier.stop()


def test_a_prompt_reaches_the_agent_over_the_websocket_and_a_reply_reaches_central(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
) -> None:
    keypads = Keypads()
    with (
        central_app(settings, db, clock) as (app, url),
        agent_channel(tmp_path, url, edge["EDGE-P"]["X-Device-Key"], clock, keypads) as channel,
    ):
        assert channel.connected.wait(30)
        command_id = queue_prompt(client, clock, db, "C1")
        wait_until(lambda: keypads.cases == ["C1"], what="the prompt at the agent")
        assert channel.handler.cursor == command_id
        assert (channel.opens, channel.fallbacks) == (1, 0)  # over the WebSocket, not the long-poll

        # the fast path up: a reply sent on the channel reaches a waiter at central
        ready, answers = threading.Event(), []

        async def wait_reply() -> None:
            with app.state.replies.expect(command_id) as pending:
                ready.set()
                answers.append(await pending.get(30))

        waiter = threading.Thread(target=asyncio.run, args=(wait_reply(),))
        waiter.start()
        assert ready.wait(30)
        assert channel.reply(command_id, {"shown": True, "window": "W01"})
        waiter.join(60)
        assert answers == [{"shown": True, "window": "W01"}]


def test_a_command_cut_off_in_flight_arrives_after_the_reconnect(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
) -> None:
    keypads = Keypads()
    with central_app(settings, db, clock) as (_app, url):
        relay = Relay(int(url.rsplit(":", 1)[1]))
        try:
            relay_url = f"http://127.0.0.1:{relay.port}"
            with agent_channel(
                tmp_path, relay_url, edge["EDGE-P"]["X-Device-Key"], clock, keypads
            ) as channel:
                assert channel.connected.wait(30)
                relay.cut_next_from_central()  # central's commands frame is lost with its connection
                command_id = queue_prompt(client, clock, db, "C1")
                wait_until(lambda: keypads.cases == ["C1"], what="the prompt after the reconnect")
                assert relay.cuts == 1 and channel.opens >= 2
                assert channel.handler.cursor == command_id
        finally:
            relay.close()


def test_a_connection_that_goes_silent_is_replaced_after_a_missed_pong(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
) -> None:
    keypads = Keypads()
    with central_app(settings, db, clock) as (_app, url):
        relay = Relay(int(url.rsplit(":", 1)[1]))
        relay_url = f"http://127.0.0.1:{relay.port}"
        key = edge["EDGE-P"]["X-Device-Key"]
        try:
            with agent_channel(tmp_path, relay_url, key, clock, keypads, heartbeat_seconds=1) as channel:
                assert channel.connected.wait(30)
                relay.stall()  # nothing passes, nothing closes: only the heartbeat can tell
                wait_until(lambda: channel.opens >= 2 and channel.connected.is_set(), what="a new connection")
                queue_prompt(client, clock, db, "C1")
                wait_until(lambda: keypads.cases == ["C1"], what="the prompt on the new connection")
        finally:
            relay.close()


def test_an_agent_that_fails_before_keeping_the_cursor_gets_the_command_again(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
) -> None:
    keypads = Keypads(fail_first=True)
    with (
        central_app(settings, db, clock) as (_app, url),
        agent_channel(tmp_path, url, edge["EDGE-P"]["X-Device-Key"], clock, keypads) as channel,
    ):
        assert channel.connected.wait(30)
        command_id = queue_prompt(client, clock, db, "C1")
        wait_until(lambda: channel.handler.cursor == command_id, what="the cursor kept after the second try")
        assert keypads.cases == ["C1", "C1"]  # at least once: handed over again, then kept
        assert channel.opens >= 2


def test_a_restarted_central_is_reconnected_and_the_agent_resumes_from_its_cursor(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
) -> None:
    keypads, port, opened = Keypads(), free_port(), []
    with agent_channel(
        tmp_path,
        f"http://127.0.0.1:{port}",
        edge["EDGE-P"]["X-Device-Key"],
        clock,
        keypads,
        on_open=lambda: opened.append(1),  # the agent nudges its uploader here
    ) as channel:
        with central_app(settings, db, clock, port):
            assert channel.connected.wait(30)
            queue_prompt(client, clock, db, "C1")
            wait_until(lambda: keypads.cases == ["C1"], what="the first prompt")
        wait_until(lambda: not channel.connected.is_set(), what="the channel to notice central stopped")
        second = queue_prompt(client, clock, db, "C2")  # queued while central is down
        with central_app(settings, db, clock, port):
            wait_until(lambda: keypads.cases == ["C1", "C2"], what="the prompt queued during the outage")
        assert channel.handler.cursor == second
        assert channel.opens >= 2 and channel.fallbacks == 0
        assert len(opened) == channel.opens  # told of every opening, the one after the restart too


def test_revoking_the_key_closes_the_channel_at_once_and_reconnects_are_refused(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
) -> None:
    key = edge["EDGE-P"]["X-Device-Key"]
    key_id = key.split("_")[1]
    with (
        central_app(settings, db, clock) as (_app, url),
        agent_channel(tmp_path, url, key, clock, Keypads(), heartbeat_seconds=300) as channel,
    ):
        assert channel.connected.wait(30)
        assert client.delete(f"/api/v1/devices/EDGE-P/keys/{key_id}").status_code == 204
        # no heartbeat comes within 300 s: the revocation's notification closed it
        wait_until(lambda: channel.refused >= 1, what="the channel closed as refused")
        # (`connected` cannot be asserted false here: a refused reconnect is accepted, then closed)
        wait_until(lambda: channel.refused >= 2, what="a reconnect refused too")


def test_a_key_of_another_hall_receives_nothing_of_this_hall(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
) -> None:
    here, other = Keypads(), Keypads()
    with (
        central_app(settings, db, clock) as (_app, url),
        agent_channel(tmp_path, url, edge["EDGE-P"]["X-Device-Key"], clock, here, "p") as channel_p,
        agent_channel(tmp_path, url, edge["EDGE-K"]["X-Device-Key"], clock, other, "k") as channel_k,
    ):
        assert channel_p.connected.wait(30) and channel_k.connected.wait(30)
        queue_prompt(client, clock, db, "C1")
        wait_until(lambda: here.cases == ["C1"], what="the prompt at its own hall's agent")
        queue_prompt(client, clock, db, "C2")
        wait_until(lambda: here.cases == ["C1", "C2"], what="the second prompt at its own hall's agent")
        assert other.cases == [] and channel_k.handler.cursor == 0 and channel_k.connected.is_set()


def without_channel(app: FastAPI) -> FastAPI:
    """central as an older version (or behind a proxy that refuses upgrades): no channel route."""
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != CHANNEL_PATH]
    return app


def test_without_the_channel_the_agent_long_polls_then_tries_the_websocket_again(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
) -> None:
    keypads, port = Keypads(), free_port()
    old = without_channel(create_app(settings, engine=db, clock=clock))
    url = f"http://127.0.0.1:{port}"
    config: dict[str, Any] = {"fallback_after_refusals": 2, "fallback_seconds": 2}
    with agent_channel(tmp_path, url, edge["EDGE-P"]["X-Device-Key"], clock, keypads, **config) as channel:
        with serve(old, port):
            wait_until(lambda: channel.fallbacks >= 1, what="the fall back to the long-poll")
            queue_prompt(client, clock, db, "C1")
            wait_until(lambda: keypads.cases == ["C1"], what="the prompt by long-poll")
            assert channel.opens == 0
        old.state.notifier.stop()
        with central_app(settings, db, clock, port):  # upgraded central: the channel is used again
            assert channel.connected.wait(30)
            queue_prompt(client, clock, db, "C2")
            wait_until(lambda: keypads.cases == ["C1", "C2"], what="the prompt over the WebSocket")
            assert channel.opens >= 1
