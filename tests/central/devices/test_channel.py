"""The device channel's server side (`GET /api/v1/device/channel`) spoken to by a raw WebSocket client
over real uvicorn on loopback: refusals (audited), the protocol's rules, heartbeats, replies kept to
their hall. The edge's own client is exercised in tests/edge/test_channel.py."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from central.access.models import DeviceKey
from central.app import create_app
from central.audit.models import AuditEntry
from central.core.config import Settings
from common.device_channel import CHANNEL_PATH, CLOSE_BAD_MESSAGE, CLOSE_IDLE, CLOSE_REFUSED
from tests.browser import serve
from tests.central.devices.helpers import edge
from tests.conftest import FakeClock
from tests.edge.test_channel import queue_prompt

__all__ = ["edge"]


@contextmanager
def central(settings: Settings, db: Engine, clock: FakeClock) -> Iterator[tuple[FastAPI, str]]:
    app = create_app(settings, engine=db, clock=clock)
    try:
        with serve(app) as url:
            yield app, "ws" + url.removeprefix("http") + CHANNEL_PATH
    finally:
        app.state.notifier.stop()


@contextmanager
def channel(url: str, key: str) -> Iterator[ClientConnection]:
    with connect(url, additional_headers={"X-Device-Key": key}, proxy=None, ping_interval=None) as ws:
        yield ws


def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=30))
    return message


def close_code(ws: ClientConnection) -> int | None:
    """Read until central closes; the close code it sent."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=30)
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


def test_an_unknown_key_is_closed_as_a_policy_violation_and_audited(
    db: Engine, settings: Settings, clock: FakeClock, session: Session
) -> None:
    with central(settings, db, clock) as (_app, url), channel(url, "hwk_0123456789abcdef_" + "x" * 43) as ws:
        assert close_code(ws) == CLOSE_REFUSED
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "refused.unauthenticated"))
    assert entry is not None and entry.target_id == f"WEBSOCKET {CHANNEL_PATH}"


def test_pages_follow_the_cursor_and_heartbeats_are_answered(
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
) -> None:
    first = queue_prompt(client, clock, db, "C1")
    with central(settings, db, clock) as (_app, url):
        with channel(url, edge["EDGE-P"]["X-Device-Key"]) as ws:
            ws.send(json.dumps({"type": "hello", "cursor": 0}))
            page = receive(ws)  # what was queued before the agent connected
            assert page["type"] == "commands" and page["cursor"] == first
            assert [c["case_no"] for c in page["commands"]] == ["C1"]
            ws.send(json.dumps({"type": "ack", "cursor": first}))
            ws.send(json.dumps({"type": "ping"}))
            assert receive(ws) == {"type": "pong"}
            second = queue_prompt(client, clock, db, "C2")
            page = receive(ws)
            assert [c["id"] for c in page["commands"]] == [second] and page["cursor"] == second
        with channel(url, edge["EDGE-P"]["X-Device-Key"]) as ws:  # resumes after its cursor
            ws.send(json.dumps({"type": "hello", "cursor": first}))
            assert [c["case_no"] for c in receive(ws)["commands"]] == ["C2"]


def test_a_channel_must_begin_with_hello(
    db: Engine, settings: Settings, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    with central(settings, db, clock) as (_app, url), channel(url, edge["EDGE-P"]["X-Device-Key"]) as ws:
        ws.send(json.dumps({"type": "ping"}))
        assert close_code(ws) == CLOSE_BAD_MESSAGE


def test_a_silent_agent_is_pinged_then_closed(
    db: Engine, settings: Settings, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    quick = settings.model_copy(update={"device_channel_idle_seconds": 2.0})
    with central(quick, db, clock) as (_app, url), channel(url, edge["EDGE-P"]["X-Device-Key"]) as ws:
        ws.send(json.dumps({"type": "hello", "cursor": 0}))
        assert receive(ws) == {"type": "ping"}  # not answered
        assert close_code(ws) == CLOSE_IDLE


def test_a_reply_reaches_its_waiter_and_never_for_another_halls_command(
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
) -> None:
    """The waiter is on another instance than the agent's channel: the reply is relayed (NOTIFY on
    PostgreSQL, in process on SQLite)."""
    command_id = queue_prompt(client, clock, db, "C1")  # the provincial hall's
    other = create_app(settings, engine=db, clock=clock)  # the instance where the waiter is
    assert other.state.notifier.wait_listening(30)
    with central(settings, db, clock) as (_app, url):
        ready, got = threading.Event(), {}

        async def wait_replies() -> None:
            with other.state.replies.expect(command_id) as mine:
                ready.set()
                got["mine"] = await mine.get(30)

        waiter = threading.Thread(target=asyncio.run, args=(wait_replies(),))
        waiter.start()
        assert ready.wait(30)
        with channel(url, edge["EDGE-K"]["X-Device-Key"]) as county:  # another hall's agent
            county.send(json.dumps({"type": "hello", "cursor": 0}))
            county.send(json.dumps({"type": "reply", "command_id": command_id, "body": {"forged": True}}))
            county.send(json.dumps({"type": "ping"}))
            assert receive(county) == {"type": "pong"}  # its reply was handled (dropped) before this
        with channel(url, edge["EDGE-P"]["X-Device-Key"]) as own:
            own.send(json.dumps({"type": "hello", "cursor": command_id}))
            own.send(json.dumps({"type": "reply", "command_id": command_id, "body": {"shown": True}}))
            waiter.join(60)
    other.state.notifier.stop()
    assert got == {"mine": {"shown": True}}


def test_the_key_is_checked_again_on_each_ping(
    db: Engine, settings: Settings, clock: FakeClock, session: Session, edge: dict[str, dict[str, str]]
) -> None:
    """A revocation that sends no notification (written straight to the table, as a restore might):
    the next heartbeat closes the channel."""
    key = edge["EDGE-P"]["X-Device-Key"]
    with central(settings, db, clock) as (_app, url), channel(url, key) as ws:
        ws.send(json.dumps({"type": "hello", "cursor": 0}))
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}
        row = session.scalar(select(DeviceKey).where(DeviceKey.key_id == key.split("_")[1]))
        assert row is not None
        row.revoked_at = clock() - timedelta(seconds=1)
        session.commit()
        ws.send(json.dumps({"type": "ping"}))
        assert close_code(ws) == CLOSE_REFUSED
