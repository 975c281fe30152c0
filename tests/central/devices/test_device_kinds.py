"""A device posts only the observation kinds of its kind (issue #13, item 7): every (device kind,
observation kind) pair through the real endpoint, with a key of a device of that kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.core.actor import Actor
from central.devices.device_kinds import ALLOWED_KINDS, observation_kinds
from central.devices.keys import issue_key
from central.registry.document import DeviceKind
from central.registry.models import Device
from tests.central.devices.helpers import OBSERVATIONS, health, press
from tests.central.patrols.helpers import live_view, live_view_row
from tests.central.video.helpers import absence, camera_health, clip, evidence, presence, shanghai, visitors
from tests.conftest import FakeClock

# One valid observation of every kind, at a moment of the test's day.
BUILDERS: dict[str, Callable[[datetime], dict[str, Any]]] = {
    "keypad_press": lambda at: press(at, 5),
    "keypad_health": health,
    "camera_health": camera_health,
    "presence": lambda at: presence(at - timedelta(minutes=5), at),
    "absence": lambda at: absence(at - timedelta(minutes=20)),
    "visitor_count": lambda at: visitors(at.replace(minute=0, second=0, microsecond=0), 3),
    "evidence": evidence,
    "clip": clip,
    "live_view": lambda at: live_view(LIVE_VIEWER, at),
}
LIVE_VIEWER = "v-kinds"
PAIRS = [(device, kind) for device in get_args(DeviceKind) for kind in sorted(observation_kinds())]


def test_the_table_covers_every_device_kind_and_observation_kind() -> None:
    assert set(ALLOWED_KINDS) == set(get_args(DeviceKind))
    assert set(BUILDERS) == observation_kinds()
    assert ALLOWED_KINDS["edge"] == observation_kinds()  # the edge agent speaks for keypads and cameras
    assert ALLOWED_KINDS["display"] == frozenset()  # a display only reads


@pytest.fixture
def device_keys(
    registry: dict[str, int], session: Session, db: Engine, clock: FakeClock
) -> dict[str, dict[str, str]]:
    """A device of every kind in the provincial hall, each with its own key."""
    keys = {}
    for kind in get_args(DeviceKind):
        device = Device(code=f"DEV-{kind}", kind=kind, name=kind, hall_id=registry["hall"])
        session.add(device)
        session.flush()
        issued = issue_key(session, device=device, now=clock(), issued_by=None, actor=Actor("cli", "tests"))
        keys[kind] = {"X-Device-Key": issued.key}
    session.commit()
    live_view_row(
        session, db, hall_id=registry["hall"], viewer=LIVE_VIEWER, at=clock()
    )  # what live_view reports on
    return keys


@pytest.mark.parametrize(("device_kind", "kind"), PAIRS)
def test_a_device_posts_only_the_kinds_of_its_kind(
    anon: TestClient, device_keys: dict[str, dict[str, str]], clock: FakeClock, device_kind: str, kind: str
) -> None:
    at = shanghai(clock, 9, 30)
    item = BUILDERS[kind](at)
    allowed = kind in ALLOWED_KINDS[device_kind]
    # An observation the device may post rides along: the batch is refused as a whole or not at all.
    companion_kind = min(ALLOWED_KINDS[device_kind] - {kind}, default=None)
    batch = [item] + ([BUILDERS[companion_kind](at + timedelta(minutes=1))] if companion_kind else [])
    response = anon.post(OBSERVATIONS, json={"observations": batch}, headers=device_keys[device_kind])
    if allowed:
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["outcome"] == "stored", response.text
        return
    assert response.status_code == 403, response.text
    detail = response.json()["detail"]
    assert f"observation 0 ({item['id']!r})" in detail
    assert repr(kind) in detail and repr(device_kind) in detail and "nothing was stored" in detail
    if companion_kind:  # nothing of the refused batch was stored: the companion is new, not a duplicate
        again = anon.post(OBSERVATIONS, json={"observations": batch[1:]}, headers=device_keys[device_kind])
        assert again.status_code == 200, again.text
        assert again.json()["results"][0]["outcome"] == "stored", again.text
