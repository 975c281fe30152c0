"""Sampling supervision through the API, on both databases: a draw of October's closed cases at the
profile's rates with the reviewers dealt by the draw, its recomputation from the recorded seed (also
after later events), the refusals, reviews (合规; 不合规 raising the cited rule's signal), and
coverage per department."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.audit.models import AuditEntry
from central.cases.models import CaseEvent
from central.core.actor import Actor
from central.core.config import Settings
from central.registry.jurisdiction import ScopeKind, jurisdiction_of
from central.sampling.models import SampleDraw
from central.sampling.service import create_draw, verify_draw
from central.signals.models import Signal
from tests.central.anomalies.helpers import Log, at, store
from tests.central.sampling.helpers import inspectors, seed_october
from tests.conftest import FakeClock, SignedIn

DRAW = {"month": "2026-10", "scope": "region:510000"}


@pytest.fixture
def world(session: Session, registry: dict[str, int], db: Engine) -> dict[str, set[str]]:
    kinds = seed_october(session)
    inspectors(db)
    return kinds


@pytest.fixture
def app_client(db: Engine, settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=db, clock=clock)) as client:
        yield client


def as_user(client: TestClient, username: str) -> TestClient:
    client.auth = SignedIn(username, "correct-horse-battery-2026")
    return client


def test_a_draw_samples_at_the_rates_and_deals_the_reviewers(
    app_client: TestClient, world: dict[str, set[str]], session: Session
) -> None:
    answer = as_user(app_client, "sichuan").post("/api/v1/sampling/draws", json=DRAW)
    assert answer.status_code == 201, answer.text
    draw = answer.json()
    assert draw["population"] == len(world) == 60 and draw["reviewers"] == ["sichuan", "sichuan2"]
    drawn = {c["case_no"]: c for c in draw["cases"]}
    revoked = {no for no, kinds in world.items() if "revocation" in kinds}
    assert revoked <= set(drawn)  # revocations are drawn at 100 %
    assert 2 <= sum(1 for no in drawn if world[no] == {"refusal"}) <= 2  # 50 % of 4, exactly
    assert sum(1 for no in drawn if not world[no]) == 2  # 5 % of 40
    assert {c["reviewer"] for c in draw["cases"]} == {"sichuan", "sichuan2"}
    loads = [sum(1 for c in draw["cases"] if c["reviewer"] == r) for r in ("sichuan", "sichuan2")]
    assert abs(loads[0] - loads[1]) <= 1
    assert all(set(c["kinds"]) == world[c["case_no"]] for c in draw["cases"])
    check = app_client.get(f"/api/v1/sampling/draws/{draw['id']}/verify").json()
    assert check == {**check, "ok": True, "population_matches": True, "sample_matches": True}
    after = session.scalars(select(AuditEntry.after).where(AuditEntry.action == "sampling.draw")).one()
    audit = json.loads(after or "{}")
    assert audit["seed"] == draw["seed"] and audit["sample_size"] == draw["sample_size"]


def test_the_same_seed_draws_the_same_sample_and_later_events_change_nothing(
    session: Session, world: dict[str, set[str]], clock: FakeClock
) -> None:
    everything = jurisdiction_of(session, kind=ScopeKind.DEPLOYMENT, scope_id=0)
    seed = bytes(range(32))
    first = create_draw(
        session,
        month="2026-10",
        scope_code="region:510000",
        within=everything,
        actor=Actor(kind="cli", name="t"),
        drawn_by_id=None,
        now=clock(),
        default_profile="sichuan-2011",
        seed=seed,
    )
    cases = [(c.case_no, c.reviewer_id, c.stratum) for c in first.cases]
    session.rollback()  # the same inputs, drawn again, give the same sample
    again = create_draw(
        session,
        month="2026-10",
        scope_code="region:510000",
        within=everything,
        actor=Actor(kind="cli", name="t"),
        drawn_by_id=None,
        now=clock(),
        default_profile="sichuan-2011",
        seed=seed,
    )
    assert [(c.case_no, c.reviewer_id, c.stratum) for c in again.cases] == cases
    session.commit()
    # A case closed in October but recorded after the draw, and a revocation recorded after it,
    # are not what the draw saw: its recomputation as of the draw still agrees.
    late = Log()
    late.count = 900
    late.case(at(datetime(2026, 10, 12).date()), done_after=3, camera=False)
    ordinary = next(no for no, kinds in world.items() if not kinds)
    late.events.append(
        {
            "event_id": "GEN00900-revoked",
            "case_no": ordinary,
            "type": "revoked",
            "at": at(datetime(2026, 11, 3).date()),
            "item_code": "SCJGJ-XK-001",
            "hall_code": "510000-ZWFW",
            "reason": "依法撤销",
        }
    )
    store_later(session, late, clock)
    stored = session.get(SampleDraw, again.id)
    assert stored is not None and verify_draw(session, draw=stored).ok
    # A draw whose record was tampered with does not recompute.
    stored.seed = "00" * 32
    result = verify_draw(session, draw=stored)
    assert not result.ok and result.population_matches and not result.sample_matches
    session.rollback()


def store_later(session: Session, log: Log, clock: FakeClock) -> None:
    store(session, log)
    # `store` records at the helper's fixed time: move those rows after the draw, as a later upload.
    later = clock() + timedelta(days=1)
    for event in session.scalars(select(CaseEvent).where(CaseEvent.event_id.like("GEN009%"))):
        event.recorded_at = later
    session.commit()


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("chengdu", DRAW, 403),  # the province lies outside a city's jurisdiction
        ("clerk", DRAW, 403),  # a post user does not sample
        ("sichuan", {"month": "2026-11", "scope": "region:510000"}, 409),  # November is not over
        ("root", {"month": "2026-10", "scope": "*"}, 409),  # no inspector holds the whole deployment
        ("sichuan", {"month": "2026-13"}, 422),
        ("sichuan", {"month": "2026-10", "scope": "region:999999"}, 422),
    ],
)
def test_refusals(
    app_client: TestClient, world: dict[str, set[str]], who: str, body: dict[str, str], status: int
) -> None:
    answer = as_user(app_client, who).post("/api/v1/sampling/draws", json=body)
    assert answer.status_code == status, answer.text
    if body.get("month") == "2026-10" and body.get("scope") != "region:999999":
        assert answer.json()["message"]  # the page's zh-CN text beside the detail


def test_one_draw_per_month_and_scope(app_client: TestClient, world: dict[str, set[str]]) -> None:
    client = as_user(app_client, "sichuan")
    assert client.post("/api/v1/sampling/draws", json=DRAW).status_code == 201
    again = as_user(app_client, "sichuan2").post("/api/v1/sampling/draws", json=DRAW)
    assert again.status_code == 409 and "只能抽样一次" in again.json()["message"]


def test_reviews(
    app_client: TestClient, world: dict[str, set[str]], session: Session, clock: FakeClock
) -> None:
    draw = as_user(app_client, "sichuan").post("/api/v1/sampling/draws", json=DRAW).json()
    mine = [c for c in draw["cases"] if c["reviewer"] == "sichuan"]
    theirs = [c for c in draw["cases"] if c["reviewer"] == "sichuan2"]
    assert [c["id"] for c in app_client.get("/api/v1/sampling/mine").json()] == [c["id"] for c in mine]
    url = "/api/v1/sampling/cases/{}/review"
    assert app_client.post(url.format(theirs[0]["id"]), json={"finding": "compliant"}).status_code == 403
    ok = app_client.post(url.format(mine[0]["id"]), json={"finding": "compliant", "note": "材料齐全"})
    assert ok.status_code == 200 and ok.json()["finding"] == "compliant" and ok.json()["signal_id"] is None
    assert app_client.post(url.format(mine[0]["id"]), json={"finding": "compliant"}).status_code == 409
    assert app_client.post(url.format(mine[1]["id"]), json={"finding": "noncompliant"}).status_code == 422
    body = {
        "finding": "noncompliant",
        "reason_code": "corrections_not_told_at_once",
        "note": "补正未一次告知",
    }
    bad = app_client.post(url.format(mine[1]["id"]), json=body)
    assert bad.status_code == 200, bad.text
    signal = session.get(Signal, bad.json()["signal_id"])
    assert signal is not None and signal.origin == "sampling" and signal.color == "yellow"
    assert signal.reason_code == "corrections_not_told_at_once" and signal.case_id is not None
    assert mine[1]["case_no"] in (signal.reason or "")
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("sampling.%"))).all()
    assert sorted(actions) == ["sampling.draw", "sampling.review", "sampling.review"]
    assert as_user(app_client, "chengdu").get(f"/api/v1/sampling/draws/{draw['id']}").status_code == 404
    assert (
        as_user(app_client, "clerk")
        .post(url.format(mine[2]["id"]), json={"finding": "compliant"})
        .status_code
        == 403
    )


def test_coverage_per_department(app_client: TestClient, world: dict[str, set[str]]) -> None:
    client = as_user(app_client, "sichuan")
    before = client.get("/api/v1/sampling/coverage", params={"month": "2026-10"}).json()
    assert before == [
        {**before[0], "closed": 60, "sampled": 0, "reviewed": 0, "noncompliant": 0, "coverage": 0.0}
    ]
    draw = client.post("/api/v1/sampling/draws", json=DRAW).json()
    after = client.get("/api/v1/sampling/coverage", params={"month": "2026-10"}).json()
    assert after[0]["department_code"] == "SCJGJ" and after[0]["sampled"] == draw["sample_size"]
    assert after[0]["coverage"] == round(draw["sample_size"] / 60, 4)
    assert client.get("/api/v1/sampling/coverage", params={"month": "2026-1"}).status_code == 422
