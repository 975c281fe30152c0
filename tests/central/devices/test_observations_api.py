"""POST /api/v1/device/observations (keypads.md): per-item answers, idempotent by (device, id), scoped
to the device's hall, all or nothing, one audit entry per batch."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.audit.models import AuditEntry
from central.core.config import Settings
from central.ratings.models import KeypadHealth, KeypadPress, Rating
from tests.central.devices.helpers import OBSERVATIONS, edge, health, post, press, seconds
from tests.conftest import FakeClock

__all__ = ["edge"]


def count(session: Session, column: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count(column))) or 0


def audit_entries(session: Session) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "device.observations.stored")))


def test_items_are_stored_duplicate_or_rejected(
    anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    first = press(seconds(clock, -60), 5, seq=1)
    body = post(
        anon,
        edge["EDGE-P"],
        first,
        press(seconds(clock, -30), 4, seq=2),
        first,  # repeated in the same batch
        press(seconds(clock, -20), 3, seq=3, window="NOPE"),
        health(seconds(clock, -10)),
    )
    assert [r["outcome"] for r in body["results"]] == ["stored", "stored", "duplicate", "rejected", "stored"]
    assert (body["stored"], body["duplicates"], body["rejected"]) == (3, 1, 1)
    assert body["results"][3]["detail"] == "no window NOPE in hall 510000-ZWFW"
    assert count(session, KeypadPress.id) == 2
    assert count(session, Rating.id) == 2
    stored = session.scalar(select(KeypadHealth))
    assert stored is not None and stored.online and stored.bad_frames == 3 and stored.firmware == "kp-1.2.0"


def test_a_whole_resent_batch_is_all_duplicates(
    anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    batch = [press(seconds(clock, -50 + i * 10), 5, seq=i) for i in range(4)] + [health(seconds(clock, -1))]
    assert post(anon, edge["EDGE-P"], *batch)["stored"] == 5
    again = post(anon, edge["EDGE-P"], *batch)
    assert [r["outcome"] for r in again["results"]] == ["duplicate"] * 5
    assert (again["stored"], again["duplicates"]) == (0, 5)
    assert count(session, KeypadPress.id) == 4
    assert count(session, Rating.id) == 4


def test_the_same_id_from_another_device_is_its_own(
    anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    assert post(anon, edge["EDGE-P"], press(seconds(clock, -5), 5))["stored"] == 1
    body = post(anon, edge["EDGE-K"], press(seconds(clock, -5), 5, window="K01"))
    assert body["stored"] == 1
    assert count(session, KeypadPress.id) == 2


def test_another_halls_window_is_rejected(anon: TestClient, edge, session: Session, clock: FakeClock) -> None:
    body = post(
        anon, edge["EDGE-P"], press(seconds(clock, -5), 5, window="K01"), health(clock(), window="K01")
    )
    assert [r["outcome"] for r in body["results"]] == ["rejected", "rejected"]
    assert {r["detail"] for r in body["results"]} == {"no window K01 in hall 510000-ZWFW"}
    assert count(session, KeypadPress.id) == 0 and count(session, KeypadHealth.id) == 0
    assert audit_entries(session) == []  # nothing written, nothing to audit


def test_a_press_from_the_future_is_rejected(anon: TestClient, edge, clock: FakeClock) -> None:
    body = post(anon, edge["EDGE-P"], press(seconds(clock, 3600), 5))
    assert body["results"][0]["outcome"] == "rejected"
    assert "in the future" in body["results"][0]["detail"]


def test_bad_key_is_401(anon: TestClient, edge, clock: FakeClock) -> None:
    items = {"observations": [press(clock(), 5)]}
    for headers in ({}, {"X-Device-Key": "hwk_0123456789abcdef_" + "x" * 43}):
        assert anon.post(OBSERVATIONS, json=items, headers=headers).status_code == 401
        assert anon.get("/api/v1/device/commands", headers=headers).status_code == 401


def test_malformed_bodies_are_422(anon: TestClient, edge, session: Session, clock: FakeClock) -> None:
    good = press(clock(), 5)
    naive = dict(good, at="2026-11-27T10:00:00")
    bad_bodies: list[Any] = [
        {},
        {"observations": []},
        {"observations": [dict(good, key=6)]},
        {"observations": [dict(good, kind="teleport")]},
        {"observations": [{k: v for k, v in good.items() if k != "window"}]},
        {"observations": [naive]},
        {"observations": [dict(good, extra=1)]},
        {"observations": [good, dict(good, id="x" * 65)]},
        [good],
    ]
    for body in bad_bodies:
        response = anon.post(OBSERVATIONS, json=body, headers=edge["EDGE-P"])
        assert response.status_code == 422, (body, response.text)
    # JSON can escape a lone surrogate, which no database driver can encode: the body's validation
    # refuses it before any query, never a 500.
    for field in ("id", "window", "keypad"):
        raw = json.dumps({"observations": [dict(good, **{field: "KP\ud800"})]})  # ASCII, escaped
        headers = {**edge["EDGE-P"], "Content-Type": "application/json"}
        response = anon.post(OBSERVATIONS, content=raw, headers=headers)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["detail"][0]["loc"][-1] == field
    assert count(session, KeypadPress.id) == 0
    assert post(anon, edge["EDGE-P"], good)["stored"] == 1  # the connection is usable afterwards


def test_an_oversize_batch_is_refused(
    db: Engine, settings: Settings, clock: FakeClock, edge, session: Session
) -> None:
    small = settings.model_copy(update={"max_batch_events": 2})
    with TestClient(create_app(small, engine=db, clock=clock)) as client:
        items = [press(seconds(clock, -i), 5, seq=i) for i in range(3)]
        response = client.post(OBSERVATIONS, json={"observations": items}, headers=edge["EDGE-P"])
        assert response.status_code == 413
        assert "at most 2" in response.json()["detail"]
        assert post(client, edge["EDGE-P"], *items[:2])["stored"] == 2
    assert count(session, KeypadPress.id) == 2


def test_one_audit_entry_per_batch_naming_the_device(
    anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    post(anon, edge["EDGE-P"], *[press(seconds(clock, -100 + i * 20), 5, seq=i) for i in range(5)])
    post(anon, edge["EDGE-P"], press(seconds(clock, -1), 4, seq=9), health(clock()))
    entries = audit_entries(session)
    assert len(entries) == 2
    assert {e.actor for e in entries} == {"device:EDGE-P"}
    assert all(e.target_id == "EDGE-P" for e in entries)
    kinds = [json.loads(e.after or "{}")["kinds"] for e in sorted(entries, key=lambda e: e.seq)]
    assert kinds == [{"keypad_press": 5}, {"keypad_health": 1, "keypad_press": 1}]


def test_health_keeps_the_newest_report(anon: TestClient, edge, session: Session, clock: FakeClock) -> None:
    newer, older = health(seconds(clock, -10), online=False), health(seconds(clock, -20), online=True)
    assert post(anon, edge["EDGE-P"], newer)["stored"] == 1
    assert post(anon, edge["EDGE-P"], older)["results"][0]["outcome"] == "duplicate"  # never goes back
    assert post(anon, edge["EDGE-P"], newer)["results"][0]["outcome"] == "duplicate"
    later = health(clock(), online=True)
    assert post(anon, edge["EDGE-P"], later)["stored"] == 1
    session.expire_all()
    rows = list(session.scalars(select(KeypadHealth)))
    assert len(rows) == 1 and rows[0].online is True
