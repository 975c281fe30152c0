"""GET /api/v1/device/commands (keypads.md): a hall's unexpired commands past the cursor, long-polled;
never another hall's, never an expired one. No timing assertions: only what comes back."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from central.core.db import make_session_factory
from central.devices.command_kinds import queue_command
from central.devices.models import DeviceCommand
from central.devices.notifier import COMMANDS as COMMANDS_TOPIC
from central.devices.notifier import Notifier, notify_after_commit
from common.contract import PromptPayload
from tests.central.devices.helpers import COMMANDS, edge, served
from tests.conftest import FakeClock
from tests.edge.contract import wait_until

__all__ = ["edge"]
PROMPTS = "/api/v1/ratings/prompts"
PAYLOAD = PromptPayload(window="W01", case_no="C1")


def old_case(client: TestClient, clock: FakeClock, case_no: str = "C1") -> None:
    """A case served yesterday: stored without a prompt (too old to rate now)."""
    r = client.post(
        "/api/v1/cases/events", json=[served(f"{case_no}-e1", case_no, clock() - timedelta(days=1))]
    )
    assert r.status_code == 200, r.text


def commands(anon: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = anon.get(COMMANDS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_requested_rating_reaches_the_halls_edge_only(
    client: TestClient, anon: TestClient, edge, clock: FakeClock, session: Session
) -> None:
    old_case(client, clock)
    assert session.scalar(select(func.count(DeviceCommand.id))) == 0  # yesterday's event prompts no one
    r = client.post(PROMPTS, json={"window": "W01", "case_no": "C1"})
    assert r.status_code == 201, r.text
    body = commands(anon, edge["EDGE-P"], after=0, wait=10)
    [command] = body["commands"]
    assert {k: v for k, v in command.items() if k not in ("id", "expires_at")} == {
        "kind": "prompt",
        "window": "W01",
        "case_no": "C1",
        "staff_name": "张三",
        "staff_no": "S001",
        "text": "请评价",
    }
    assert body["cursor"] == command["id"]
    assert commands(anon, edge["EDGE-K"], after=0, wait=0.2) == {"commands": [], "cursor": 0}
    # nothing new past the cursor: the wait runs out empty, the cursor stays
    assert commands(anon, edge["EDGE-P"], after=body["cursor"], wait=0.3) == {
        "commands": [],
        "cursor": body["cursor"],
    }


def test_expired_commands_are_never_returned(
    client: TestClient, anon: TestClient, edge, clock: FakeClock
) -> None:
    old_case(client, clock)
    assert client.post(PROMPTS, json={"window": "W01", "case_no": "C1"}).status_code == 201
    clock.advance(seconds=181)  # prompt_valid_seconds is 180 in the default profile
    body = commands(anon, edge["EDGE-P"], after=0, wait=0)
    assert body["commands"] == []
    assert body["cursor"] >= 1  # past the expired command: it is never looked at again


def test_a_waiting_poll_gets_a_command_made_meanwhile(
    client: TestClient, anon: TestClient, edge, clock: FakeClock
) -> None:
    old_case(client, clock)
    answers: list[dict[str, Any]] = []
    poll = threading.Thread(target=lambda: answers.append(commands(anon, edge["EDGE-P"], after=0, wait=30)))
    poll.start()
    assert client.post(PROMPTS, json={"window": "W01", "case_no": "C1"}).status_code == 201
    poll.join(timeout=60)
    assert not poll.is_alive()
    # the poll began before or after the command was committed: either way it answers with it
    assert [c["case_no"] for c in answers[0]["commands"]] == ["C1"]


def test_a_commit_wakes_the_halls_waiters_and_a_rollback_does_not(db: Engine) -> None:
    factory = make_session_factory(db)

    def write(commit: bool) -> None:
        with factory() as session:
            notify_after_commit(session, 7)
            if commit:
                session.commit()
            else:
                session.rollback()

    notifier = Notifier(db)
    assert notifier.wait_listening(30)  # PostgreSQL: LISTEN is up (its start wakes every waiter once)

    async def scenario() -> tuple[bool, bool]:
        with (
            notifier.subscribe(COMMANDS_TOPIC, "7") as wake,
            notifier.subscribe(COMMANDS_TOPIC, "8") as other,
        ):
            await asyncio.to_thread(write, False)
            await asyncio.sleep(0.2)  # a NOTIFY would have arrived by now; the rollback sent none
            rolled_back = wake.fired
            await asyncio.to_thread(write, True)
            assert await wake.wait(30)
            return rolled_back, other.fired

    try:
        assert asyncio.run(scenario()) == (False, False)
    finally:
        notifier.stop()


def test_a_halls_commands_commit_in_id_order_on_postgresql(db: Engine, registry: dict[str, int]) -> None:
    """The cursor is an id: a command with a lower id committed after a higher one would be skipped
    for good. A second command of the same hall waits for the first one's transaction."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    factory, hall = make_session_factory(db), registry["hall"]
    now = datetime.now(UTC)
    first = factory()
    queued: list[int] = []

    def second() -> None:
        with factory() as session:
            command = queue_command(session, hall_id=hall, command=PAYLOAD, now=now, expires_at=now)
            session.commit()
            queued.append(command.id)

    try:
        earlier = queue_command(first, hall_id=hall, command=PAYLOAD, now=now, expires_at=now)
        thread = threading.Thread(target=second)
        thread.start()
        waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        with db.connect() as conn:
            wait_until(lambda: conn.execute(waiting).scalar() == 1, what="the second command to wait")
        assert queued == []
        first.commit()
        thread.join(60)
        assert queued and queued[0] > earlier.id
    finally:
        first.close()


def test_a_stored_command_central_cannot_send_is_skipped_not_a_server_error(
    anon: TestClient, edge, clock: FakeClock, session: Session, registry: dict[str, int], caplog
) -> None:
    hall, now = registry["hall"], clock()
    expires = now + timedelta(minutes=3)
    for kind, payload in [("prompt", "{not json"), ("reboot", "{}"), ("prompt", '{"window": "W01"}')]:
        session.add(
            DeviceCommand(hall_id=hall, kind=kind, payload=payload, created_at=now, expires_at=expires)
        )
    session.flush()
    good = queue_command(
        session, hall_id=hall, command=PromptPayload(window="W01", case_no="C9"), expires_at=expires, now=now
    )
    session.commit()
    body = commands(anon, edge["EDGE-P"], after=0, wait=0)
    assert [(c["id"], c["case_no"], c["staff_name"], c["text"]) for c in body["commands"]] == [
        (good.id, "C9", None, "请评价")
    ]
    assert body["cursor"] == good.id  # past the three it skipped: they are not looked at again
    assert sum("cannot be sent, skipped" in r.getMessage() for r in caplog.records) == 3
