"""Refused requests are audited: forged and expired tokens, forbidden actions, another hall's key,
every signed-in 404, failed sign-ins — one chain entry per (who, what, target) a window, every one
counted in refusal_tallies (which a restart keeps), the earlier windows' rest carried into the next
entry."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from central.access import passwords
from central.access.models import RefusalTally
from central.access.roles import Role
from central.app import create_app
from central.audit.chain import verify
from central.audit.models import AuditEntry
from central.core.db import make_engine
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


def _tallies(session: Session) -> dict[tuple[str, str, str], int]:
    session.expire_all()
    rows = session.execute(
        select(
            RefusalTally.caller, RefusalTally.action, RefusalTally.target, func.sum(RefusalTally.count)
        ).group_by(RefusalTally.caller, RefusalTally.action, RefusalTally.target)
    )
    return {(caller, action, target): int(total) for caller, action, target, total in rows}


def _routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every APIRoute, through included routers (FastAPI keeps those nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, set(route.methods or ())
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from _routes(included.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]


def _walkable_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, concrete path) of every route, path parameters filled with an id nobody has."""
    found = []
    for template, methods in _routes(app.routes):
        if "logout" in template or template in SIGN_IN_PATHS:
            continue
        path = re.sub(r"\{[^}]+\}", "999999", template)
        found += [
            (method, path)
            for method in sorted(methods)
            if method in {"GET", "POST", "PUT", "DELETE", "PATCH"}
        ]
    assert len(found) >= 80, "the route table was not walked"
    return found


SIGN_IN_PATHS = {"/api/v1/auth/token", "/console/login"}
# The hall screens' public API takes no credential: a 404 there (no such hall) is not found, not a
# refusal of access; it is still walked (never a 500).
PUBLIC_API = "/api/v1/public/"


@pytest.mark.parametrize(
    ("username", "role", "scope"),
    [("clerk", Role.POST_USER, "department:SCJGJ"), ("county", Role.INSPECTOR, "region:510104")],
)
def test_every_refusal_of_every_route_is_recorded_with_its_target(
    anon: TestClient, db: Engine, session: Session, registry, clock, username: str, role: Role, scope: str
) -> None:
    """Walk every route (API and console, from the app's own table) as a signed-in caller of little
    scope, asking for objects nobody has: each 401/403/404 answered is a counted refusal naming
    the method and path tried; a new route is walked without touching this test."""
    make_user(db, username, role=role, scope=scope, password=ROOT_PASSWORD, now=clock())
    signed_in = anon.post(
        "/console/login", data={"username": username, "password": ROOT_PASSWORD}, follow_redirects=False
    )
    assert signed_in.status_code == 303
    token = login(anon, username, ROOT_PASSWORD)
    refused: dict[int, list[str]] = {401: [], 403: [], 404: []}
    assert isinstance(anon.app, FastAPI)
    for method, path in _walkable_routes(anon.app):
        headers = token if path.startswith("/api/") else {}
        r = anon.request(method, path, headers=headers, follow_redirects=False)
        assert r.status_code < 500, (method, path, r.status_code)
        if r.status_code in refused and not path.startswith(PUBLIC_API):
            refused[r.status_code].append(f"{method} {path}")
    tallies = _tallies(session)
    named = {target for (caller, _action, target) in tallies if caller == f"user:{username}"}
    anyone = {target for (_caller, _action, target) in tallies}
    for status, targets in refused.items():
        # A 401 names nobody (the device API does not take a user's token: the caller is anonymous).
        missing = sorted(set(targets) - (anyone if status == 401 else named))
        assert not missing, f"{status} refusals not recorded: {missing}"
    assert len(refused[404]) >= 10 and len(refused[403]) + len(refused[404]) >= 20  # the walk reached them
    assert verify(session).ok


def test_refusal_counts_survive_a_restart(db: Engine, settings, session: Session, clock) -> None:
    """Counted in the database, not in memory: a new app and engine on the same database go on
    counting, and the next window's entry carries the whole count into the chain."""
    forged = {"Authorization": "Bearer hwt_forged_token_value"}
    key = ("anonymous:testclient", "refused.unauthenticated", "GET /api/v1/cases")
    with TestClient(create_app(settings, engine=db, clock=clock)) as first:
        for _ in range(5):
            assert first.get("/api/v1/cases", headers=forged).status_code == 401
    assert _tallies(session)[key] == 5
    engine = make_engine(settings.database_url)  # "restart": nothing of the first app is reused
    try:
        with TestClient(create_app(settings, engine=engine, clock=clock)) as second:
            for _ in range(3):
                assert second.get("/api/v1/cases", headers=forged).status_code == 401
            assert _tallies(session)[key] == 8
            assert len(_refusals(session)) == 1  # one chain entry for the window
            clock.advance(seconds=61)
            assert second.get("/api/v1/cases", headers=forged).status_code == 401
    finally:
        engine.dispose()
    entries = _refusals(session)
    assert len(entries) == 2 and entries[-1][3]["similar_refusals_not_logged"] == 7
    assert _tallies(session)[key] == 9
    assert verify(session).ok


def test_a_sign_in_flood_is_counted_not_chained(
    anon: TestClient, db: Engine, session: Session, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """400 failed sign-ins from one address in 10 s: one chain entry, a count of 400 (a cheaper
    argon2 here only to keep the suite quick; the throttle answers 423 after five anyway)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY", cheap.hash("hallwatch-no-such-user"))
    make_user(db, "alice", password=ROOT_PASSWORD, now=clock())
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    statuses = set()
    for n in range(400):
        clock.advance(seconds=0.025)
        username = "alice" if n % 2 else f"guess{n}"  # known and unknown names alike
        r = anon.post("/api/v1/auth/token", data={"username": username, "password": f"guess-{n:06d}x"})
        statuses.add(r.status_code)
    assert statuses == {401, 423}
    written = session.scalar(select(func.count()).select_from(AuditEntry)) - (before or 0)
    assert written == 1
    assert _tallies(session) == {("anonymous:testclient", "refused.sign_in", "POST /api/v1/auth/token"): 400}
