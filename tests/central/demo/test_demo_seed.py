"""The demo dataset goes in through the production paths and covers every state and light."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.cases.lifecycle import CaseStatus
from central.cases.models import Case
from central.demo.seed import seed_demo
from central.demo.supervision import seed_supervision
from tests.conftest import ROOT_PASSWORD, login, make_user


def test_demo_seed_covers_every_state_and_light(client: TestClient, session: Session, clock) -> None:
    summary = seed_demo(session, now=clock(), default_profile_key="sichuan-2011", cases=400)
    assert summary.halls == 7 and summary.items >= 50 and summary.cases == 400
    statuses = set(session.scalars(select(Case.status).distinct()))
    assert statuses == {s.value for s in CaseStatus}
    assert session.scalar(select(func.count()).where(Case.paused_since.is_not(None))) > 0
    lights = client.get("/api/v1/cases/lights/summary").json()
    assert lights["green"] > 0 and lights["yellow"] > 0 and lights["red"] > 0
    page = client.get("/api/v1/cases", params={"status": "completed", "page_size": 500}).json()
    on_time = {c["finished_on_time"] for c in page["items"]}
    assert on_time == {True, False}


def test_demo_supervision_fills_the_signal_ledger_and_approval_pages(
    client: TestClient, anon: TestClient, db, session: Session, clock
) -> None:
    seed_demo(session, now=clock(), default_profile_key="sichuan-2011", cases=400)
    for username, role, scope in [
        ("sichuan", Role.INSPECTOR, "region:510000"),
        ("jinjiang", Role.INSPECTOR, "region:510104"),
        ("clerk", Role.POST_USER, "department:510104-SCJG"),
    ]:
        make_user(db, username, role=role, scope=scope, password=ROOT_PASSWORD, now=clock())
    summary = seed_supervision(
        session,
        now=clock(),
        default_profile="sichuan-2011",
        inspector="sichuan",
        county_inspector="jinjiang",
        clerk="clerk",
    )
    assert summary.signals > 10 and summary.investigations == 1 and summary.approvals == 1
    assert client.get("/api/v1/ledger").json()["total"] == summary.signals
    inbox = anon.get(
        "/api/v1/approvals", params={"inbox": "true"}, headers=login(anon, "sichuan", ROOT_PASSWORD)
    )
    assert [a["kind"] for a in inbox.json()] == ["case_event_void"]
    county = login(anon, "jinjiang", ROOT_PASSWORD)
    assert anon.get("/api/v1/investigations", headers=county).json()["total"] == 1
