"""Excluding a mistaken or malicious 差评 (HCP) only through an approval (SC-18, provincial level)
decided by someone else: figures change only then; the rating stays on record, marked excluded;
its follow-up takes no more steps and raises no overdue signal."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.audit.chain import verify
from central.audit.models import AuditEntry
from central.calendar.service import load_calendar
from central.core.db import make_session_factory
from central.ratings.models import Rating
from central.ratings.overdue import RATINGS_SIGNAL_SOURCES
from central.signals.models import Signal
from central.signals.scheduler import run_signals
from tests.central.ratings.followup_world import (
    FOLLOWUPS,
    PROFILE,
    World,
    add_november,
    build_world,
    followup_of,
)
from tests.conftest import FakeClock

FIGURES = "/api/v1/ratings/figures?by=department&from=2026-11-01&to=2026-11-30"
APPROVALS = "/api/v1/approvals"


@pytest.fixture
def world(client: TestClient, db: Engine, session: Session, registry: dict[str, int]) -> World:
    return build_world(client, db, session, registry)


@pytest.fixture
def ratings(client: TestClient, session: Session, world: World) -> dict[str, int]:
    return add_november(client, session, world)


def total(client: TestClient) -> dict[str, Any]:
    return dict(client.get(FIGURES).json()["total"])


def ask(client: TestClient, world: World, who: str, rating_id: int, reason: str = "群众误按") -> Any:
    return client.post(
        f"/api/v1/ratings/{rating_id}/exclusion", json={"reason": reason}, auth=world.people[who]
    )


def test_exclusion_waits_for_someone_elses_provincial_approval(
    client: TestClient, session: Session, world: World, ratings: dict[str, int]
) -> None:
    before = total(client)
    assert (before["count"], before["bad_count"]) == (8, 3)
    asked = ask(client, world, "clerk", ratings["r5"])
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["kind"], request["level"], request["status"], request["target_id"]) == (
        "rating_exclusion",
        "province",
        "pending",
        str(ratings["r5"]),
    )
    assert total(client) == before  # nothing changes while it is pending

    request_id = request["id"]
    assert client.post(f"{APPROVALS}/{request_id}/approve", auth=world.people["clerk"]).status_code == 403
    assert (
        client.post(f"{APPROVALS}/{request_id}/approve", auth=world.people["county_inspector"]).status_code
        == 404
    )
    assert total(client) == before

    approved = client.post(
        f"{APPROVALS}/{request_id}/approve", json={"note": "核实为误按"}, auth=world.people["inspector"]
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["result"] == {"rating_id": ratings["r5"], "excluded": True}
    after = total(client)
    # r5 (level 2, weight 1) leaves: Σw 5.5, Σw·level 20, not 差评 4.25; its follow-up leaves too.
    assert (
        after["count"],
        after["weight"],
        after["bad_count"],
        after["followups"],
        after["called_back"],
    ) == (7, 5.5, 2, 2, 1)
    assert (after["average_level"], after["satisfaction_rate"], after["callback_rate"]) == (
        round(20 / 5.5, 4),
        round(4.25 / 5.5, 6),
        0.5,
    )

    session.expire_all()
    rating = session.get(Rating, ratings["r5"])
    assert (
        rating is not None and rating.excluded and rating.excluded_by_approval_id == request_id
    )  # kept, marked
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "rating.exclude")).one()
    assert entry.actor == "user:inspector" and entry.target_id == str(ratings["r5"])
    assert verify(session).ok

    followup = followup_of(session, ratings["r5"])
    assert followup is not None
    shown = client.get(f"{FOLLOWUPS}/{followup.id}").json()
    assert (
        shown["excluded"] is True
        and shown["excluded_by_approval_id"] == request_id
        and shown["allowed_steps"] == []
    )
    assert shown["overdue"] is False
    refused = client.post(
        f"{FOLLOWUPS}/{followup.id}/callback", json={"result": "x"}, auth=world.people["clerk"]
    )
    assert refused.status_code == 409
    assert followup.id in [item["id"] for item in client.get(FOLLOWUPS).json()["items"]]  # still listed


def test_only_a_bad_rating_not_yet_excluded_can_be_asked_for(
    client: TestClient, world: World, ratings: dict[str, int]
) -> None:
    assert ask(client, world, "clerk", ratings["r1"]).status_code == 409  # 非常满意 is no 差评
    assert ask(client, world, "clerk", ratings["c2"]).status_code == 404  # another department's
    assert ask(client, world, "clerk", 999_999).status_code == 404
    for target in ("²", "１", "abc", "00000000000000000001"):
        body = {"kind": "rating_exclusion", "target": target, "reason": "误按"}
        assert client.post(APPROVALS, json=body, auth=world.people["clerk"]).status_code == 404, target
    payload = {
        "kind": "rating_exclusion",
        "target": str(ratings["r4"]),
        "payload": {"x": 1},
        "reason": "误按",
    }
    assert client.post(APPROVALS, json=payload, auth=world.people["clerk"]).status_code == 422
    assert ask(client, world, "clerk", ratings["r4"], reason="").status_code == 422
    first = ask(client, world, "clerk", ratings["r4"])
    assert first.status_code == 201
    assert ask(client, world, "clerk", ratings["r4"]).status_code == 409  # already pending from the clerk
    approve = client.post(f"{APPROVALS}/{first.json()['id']}/approve", auth=world.people["inspector"])
    assert approve.status_code == 200
    assert ask(client, world, "inspector", ratings["r4"]).status_code == 409  # already excluded


def test_the_requester_cannot_approve_their_own_and_a_second_request_conflicts_on_approval(
    client: TestClient, world: World, ratings: dict[str, int]
) -> None:
    mine = ask(client, world, "inspector", ratings["c2"]).json()
    assert client.post(f"{APPROVALS}/{mine['id']}/approve", auth=world.people["inspector"]).status_code == 403
    other = ask(client, world, "inspector2", ratings["c2"]).json()
    assert (
        client.post(f"{APPROVALS}/{other['id']}/approve", auth=world.people["inspector"]).status_code == 200
    )
    late = client.post(f"{APPROVALS}/{mine['id']}/approve", auth=world.people["inspector2"])
    assert late.status_code == 409  # excluded meanwhile: the request stays pending, nothing applied twice
    assert (
        client.get(f"{APPROVALS}/{mine['id']}", auth=world.people["inspector"]).json()["status"] == "pending"
    )


def test_an_excluded_bad_rating_raises_no_overdue_signal(
    client: TestClient, db: Engine, session: Session, world: World, clock: FakeClock, ratings: dict[str, int]
) -> None:
    """As of 11-27 the follow-ups of r0, r4, r5 (Sichuan) and c2 are past their deadlines."""
    request = ask(client, world, "clerk", ratings["r5"]).json()
    assert (
        client.post(f"{APPROVALS}/{request['id']}/approve", auth=world.people["inspector"]).status_code == 200
    )
    with make_session_factory(db)() as s:
        summary = run_signals(
            s,
            now=clock(),
            calendar=load_calendar(s),
            default_profile=PROFILE,
            instance="test",
            sources=RATINGS_SIGNAL_SOURCES,
        )
    assert summary.followup_overdue == 3
    keys = set(session.scalars(select(Signal.dedupe_key).where(Signal.origin == "followup")))
    expected = {f"followup:{followup_of(session, ratings[name]).id}" for name in ("r0", "r4", "c2")}  # type: ignore[union-attr]
    assert keys == expected
