"""Refused requests are audited: forged and expired tokens, forbidden actions, another hall's key —
at most one entry per (who, what) a minute, with the skipped ones counted into the next."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.audit.chain import verify
from central.audit.models import AuditEntry
from central.registry.models import Device
from tests.conftest import ROOT_PASSWORD, login, make_user


def _refusals(session: Session) -> list[tuple[str, str, str, dict]]:
    session.expire_all()
    rows = session.execute(
        select(AuditEntry.actor, AuditEntry.action, AuditEntry.target_id, AuditEntry.after)
        .where(AuditEntry.action.like("refused.%"))
        .order_by(AuditEntry.seq)
    )
    return [(actor, action, target, json.loads(after)) for actor, action, target, after in rows]


def test_forged_and_expired_tokens_are_audited_without_flooding(
    anon: TestClient, db: Engine, session: Session, clock
) -> None:
    forged = {"Authorization": "Bearer hwt_forged_token_value"}
    for _ in range(5):
        assert anon.get("/api/v1/cases", headers=forged).status_code == 401
    assert _refusals(session) == [
        (
            "anonymous:testclient",
            "refused.unauthenticated",
            "GET /api/v1/cases",
            {"detail": "the token is invalid, expired or revoked"},
        )
    ]
    make_user(db, "insp", role=Role.INSPECTOR, scope="*", password=ROOT_PASSWORD, now=clock())
    headers = login(anon, "insp", ROOT_PASSWORD)
    clock.advance(hours=9)  # past the 8-hour token lifetime, and past the one-minute window
    assert anon.get("/api/v1/cases", headers=headers).status_code == 401
    last = _refusals(session)[-1]
    assert last[1] == "refused.unauthenticated" and last[3]["similar_refusals_not_logged"] == 4
    assert verify(session).ok


def test_forbidden_actions_name_the_user(
    anon: TestClient, db: Engine, session: Session, registry, clock
) -> None:
    make_user(db, "clerk", role=Role.POST_USER, scope="department:SCJGJ", password=ROOT_PASSWORD, now=clock())
    headers = login(anon, "clerk", ROOT_PASSWORD)
    body = {"reason_code": "other_minor", "reason": "自查", "department_code": "SCJGJ"}
    assert anon.post("/api/v1/signals", json=body, headers=headers).status_code == 403
    [(actor, action, target, after)] = _refusals(session)
    assert (actor, action, target) == ("user:clerk", "refused.forbidden", "POST /api/v1/signals")
    assert "signals.supervise" in after["detail"]


def test_a_key_from_another_hall_is_audited(
    client: TestClient, anon: TestClient, session: Session, registry
) -> None:
    session.add(Device(code="EDGE-K", kind="edge", name="锦江区边缘盒", hall_id=registry["county_hall"]))
    session.commit()
    key = client.post("/api/v1/devices/EDGE-K/keys").json()["key"]
    r = anon.get("/api/v1/device/halls/510000-ZWFW/windows", headers={"X-Device-Key": key})
    assert r.status_code == 404
    [(actor, action, target, _after)] = _refusals(session)
    assert (actor, action, target) == (
        "device:EDGE-K",
        "refused.other_hall",
        "GET /api/v1/device/halls/510000-ZWFW/windows",
    )


def test_probing_another_departments_case_is_audited(
    client: TestClient, anon: TestClient, db: Engine, session: Session, registry, clock
) -> None:
    event = {
        "event_id": "p1",
        "case_no": "HW-P1",
        "type": "accepted",
        "at": "2026-11-26T09:00:00+08:00",
        "item_code": "SCJGJ-XK-001",
        "hall_code": "510000-ZWFW",
    }
    assert client.post("/api/v1/cases/events", json=[event]).status_code == 200
    make_user(db, "county", role=Role.INSPECTOR, scope="region:510104", password=ROOT_PASSWORD, now=clock())
    headers = login(anon, "county", ROOT_PASSWORD)
    hidden = anon.get("/api/v1/cases/HW-P1", headers=headers)
    missing = anon.get("/api/v1/cases/HW-NONE", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == "no case HW-P1"  # the same answer as a missing case
    # Both are recorded (a missing case is as much a probe); the hidden one says what it found.
    assert [(a, act, t) for a, act, t, _ in _refusals(session)] == [
        ("user:county", "refused.out_of_jurisdiction", "GET /api/v1/cases/HW-P1"),
        ("user:county", "refused.not_found", "GET /api/v1/cases/HW-NONE"),
    ]
