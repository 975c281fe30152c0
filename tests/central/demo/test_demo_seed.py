"""The demo dataset goes in through the production paths and covers every state and light."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.cases.lifecycle import CaseStatus
from central.cases.models import Case
from central.demo.seed import seed_demo


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
