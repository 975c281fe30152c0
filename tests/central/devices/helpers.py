"""Shared by the device-endpoint and binding tests: edge agents with keys, observation builders."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.core.actor import Actor
from central.core.clock import SHANGHAI
from central.core.db import make_session_factory
from central.devices.keys import issue_key
from central.devices.outboxes import OutboxState, latest_outboxes
from central.registry.models import Device, ServiceWindow
from tests.central.cases.helpers import ev
from tests.conftest import FakeClock

OBSERVATIONS = "/api/v1/device/observations"
COMMANDS = "/api/v1/device/commands"


@pytest.fixture
def edge(registry: dict[str, int], session: Session, clock: FakeClock) -> dict[str, dict[str, str]]:
    """Edge agents EDGE-P (provincial hall, window W01) and EDGE-K (county hall, window K01):
    the X-Device-Key header of each."""
    session.add(ServiceWindow(code="K01", name="县1号窗口", hall_id=registry["county_hall"]))
    p = Device(code="EDGE-P", kind="edge", name="省中心边缘盒", hall_id=registry["hall"])
    k = Device(code="EDGE-K", kind="edge", name="锦江区边缘盒", hall_id=registry["county_hall"])
    session.add_all([p, k])
    session.flush()
    tests = Actor(kind="cli", name="tests")
    keys = {
        d.code: issue_key(session, device=d, now=clock(), issued_by=None, actor=tests).key for d in (p, k)
    }
    session.commit()
    return {code: {"X-Device-Key": key} for code, key in keys.items()}


def press(
    at: datetime,
    key: int,
    *,
    seq: int = 1,
    window: str = "W01",
    keypad: str = "KP-W01",
    uptime_ms: int | None = None,
) -> dict[str, Any]:
    uptime = uptime_ms if uptime_ms is not None else seq * 1000
    return {
        "id": f"{keypad}:{seq}:{uptime}",
        "kind": "keypad_press",
        "at": at.isoformat(),
        "window": window,
        "keypad": keypad,
        "seq": seq,
        "key": key,
        "uptime_ms": uptime,
    }


def health(
    at: datetime, *, online: bool = True, window: str = "W01", keypad: str = "KP-W01"
) -> dict[str, Any]:
    return {
        "id": f"health:{keypad}:{at.isoformat()}",
        "kind": "keypad_health",
        "at": at.isoformat(),
        "window": window,
        "keypad": keypad,
        "online": online,
        "firmware": "kp-1.2.0",
        "last_heartbeat_at": at.isoformat(),
        "bad_frames": 3,
        "reconnects": 1,
    }


def post(client: TestClient, headers: dict[str, str], *items: dict[str, Any]) -> dict[str, Any]:
    response = client.post(OBSERVATIONS, json={"observations": list(items)}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def served(event_id: str, case_no: str, at: datetime, **extra: Any) -> dict[str, Any]:
    """A case event at window W01 by staff S001 at `at`."""
    fields: dict[str, Any] = {"window_code": "W01", "staff_code": "S001", **extra}
    return ev(event_id, case_no, "received", at.astimezone(SHANGHAI).isoformat(), **fields)


def seconds(clock: FakeClock, s: float) -> datetime:
    return clock() + timedelta(seconds=s)


def outbox_state(engine: Engine, code: str) -> OutboxState | None:
    """The outbox state central keeps for device `code`, read in a session of its own."""
    with make_session_factory(engine)() as session:
        device = session.scalar(select(Device.id).where(Device.code == code))
        return latest_outboxes(session).get(device) if device is not None else None
