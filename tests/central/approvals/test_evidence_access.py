"""Evidence access (SC-18: looking at or copying video needs approval by the bureau at that level):
a grant is local-level, usable for `evidence_access_hours`, then expires."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.models import User
from central.approvals.evidence import EvidenceOwner, has_evidence_access, set_evidence_locator
from central.audit.chain import verify
from central.audit.models import AuditEntry
from tests.central.approvals.helpers import COUNTY_HALL, URL
from tests.conftest import FakeClock, SignedIn


def user_id(session: Session, name: str) -> int:
    found = session.scalar(select(User.id).where(User.username == name))
    assert found is not None
    return found


def ask_view(client: TestClient, who: SignedIn, kind: str = "evidence_view", target: str = "EV-1") -> int:
    r = client.post(
        URL,
        json={"kind": kind, "target": target, "payload": {"hall_code": COUNTY_HALL}, "reason": "核查投诉"},
        auth=who,
    )
    assert r.status_code == 201, r.text
    assert r.json()["level"] == "local"
    return int(r.json()["id"])


def test_a_county_inspector_grants_a_view_that_expires(
    client: TestClient, people: dict[str, SignedIn], session: Session, clock: FakeClock
) -> None:
    clerk = user_id(session, "clerk")
    request_id = ask_view(client, people["clerk"])
    assert not has_evidence_access(session, user_id=clerk, evidence_id="EV-1", export=False, now=clock())
    r = client.post(f"{URL}/{request_id}/approve", auth=people["county"])  # the bureau at that level
    assert r.status_code == 200, r.text
    assert r.json()["usable_until"] is not None
    session.expire_all()
    assert has_evidence_access(session, user_id=clerk, evidence_id="EV-1", export=False, now=clock())
    assert not has_evidence_access(session, user_id=clerk, evidence_id="EV-1", export=True, now=clock())
    assert not has_evidence_access(session, user_id=clerk, evidence_id="EV-2", export=False, now=clock())
    assert not has_evidence_access(
        session, user_id=user_id(session, "county"), evidence_id="EV-1", export=False, now=clock()
    )
    clock.advance(hours=23, minutes=59)
    assert has_evidence_access(session, user_id=clerk, evidence_id="EV-1", export=False, now=clock())
    clock.advance(minutes=1)  # 24 h: the profile's evidence_access_hours
    assert not has_evidence_access(session, user_id=clerk, evidence_id="EV-1", export=False, now=clock())
    assert "evidence.access.grant" in set(session.scalars(select(AuditEntry.action)))
    assert verify(session).ok


def test_an_export_grant_also_allows_viewing(
    client: TestClient, people: dict[str, SignedIn], session: Session, clock: FakeClock
) -> None:
    request_id = ask_view(client, people["clerk"], kind="evidence_export")
    assert client.post(f"{URL}/{request_id}/approve", auth=people["prov"]).status_code == 200
    clerk = user_id(session, "clerk")
    assert has_evidence_access(session, user_id=clerk, evidence_id="EV-1", export=True, now=clock())
    assert has_evidence_access(session, user_id=clerk, evidence_id="EV-1", export=False, now=clock())


def test_a_rejected_or_pending_request_grants_nothing(
    client: TestClient, people: dict[str, SignedIn], session: Session, clock: FakeClock
) -> None:
    request_id = ask_view(client, people["clerk"])
    ask_view(client, people["clerk"], target="EV-2")
    assert (
        client.post(f"{URL}/{request_id}/reject", json={"note": "无关"}, auth=people["county"]).status_code
        == 200
    )
    clerk = user_id(session, "clerk")
    for evidence_id in ("EV-1", "EV-2"):
        assert not has_evidence_access(
            session, user_id=clerk, evidence_id=evidence_id, export=False, now=clock()
        )


def test_an_approver_outside_the_hall_sees_nothing(client: TestClient, people: dict[str, SignedIn]) -> None:
    request_id = ask_view(client, people["clerk"])
    assert client.post(f"{URL}/{request_id}/approve", auth=people["hallonly"]).status_code == 404


def test_a_hall_outside_the_requesters_jurisdiction_is_not_found(
    client: TestClient, people: dict[str, SignedIn]
) -> None:
    for hall_code in ("510000-ZWFW", "NO-SUCH-HALL"):
        r = client.post(
            URL,
            json={
                "kind": "evidence_view",
                "target": "EV-9",
                "payload": {"hall_code": hall_code},
                "reason": "x",
            },
            auth=people["clerk"],
        )
        assert r.status_code == 404
        assert r.json()["detail"] == "no evidence EV-9"


@pytest.fixture
def locator(registry: dict[str, int]) -> Iterator[None]:
    """What the evidence module will plug in: evidence looked up by id."""
    known = {"CLIP-7": EvidenceOwner(hall_id=registry["county_hall"])}
    set_evidence_locator(lambda _session, evidence_id: known.get(evidence_id))
    yield
    set_evidence_locator(None)


def test_with_a_locator_the_hall_comes_from_the_evidence(
    client: TestClient, people: dict[str, SignedIn], locator: None
) -> None:
    ok = client.post(
        URL, json={"kind": "evidence_view", "target": "CLIP-7", "reason": "x"}, auth=people["clerk"]
    )
    assert ok.status_code == 201 and ok.json()["hall_code"] == COUNTY_HALL
    missing = client.post(
        URL, json={"kind": "evidence_view", "target": "CLIP-8", "reason": "x"}, auth=people["clerk"]
    )
    assert missing.status_code == 404
