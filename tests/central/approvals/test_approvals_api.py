"""Approvals through the real HTTP API (SC-18): nothing changes until someone else, at the right
level, approves; voided events stay in the log (QTH-1) and replay skips them; every step audited."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.audit.chain import verify
from central.audit.models import AuditEntry
from central.cases.models import CaseEvent, CaseEventVoid
from tests.central.approvals.helpers import EVENTS_URL, URL, county_ev, push
from tests.conftest import SignedIn


def ask(client: TestClient, who: SignedIn, **body: Any) -> dict[str, Any]:
    body.setdefault("reason", "录入错误")
    r = client.post(URL, json=body, auth=who)
    assert r.status_code == 201, r.text
    answer: dict[str, Any] = r.json()
    return answer


def void_k3(client: TestClient, people: dict[str, SignedIn]) -> dict[str, Any]:
    return ask(client, people["clerk"], kind="case_event_void", target="k3")


def case(client: TestClient, case_no: str = "K1") -> dict[str, Any]:
    r = client.get(f"/api/v1/cases/{case_no}")
    assert r.status_code == 200, r.text
    detail: dict[str, Any] = r.json()
    return detail


def actions(session: Session) -> list[str]:
    session.expire_all()
    done = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))
    return [a for a in done if not a.startswith("auth.")]


def test_void_waits_for_approval_then_replays_without_the_event(
    client: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    request = void_k3(client, people)
    assert request["status"] == "pending" and request["level"] == "province"
    assert request["kind_label"] == "作废办件事件" and request["requested_by"] == "clerk"
    assert case(client)["status"] == "undertaken"  # nothing changes while pending

    r = client.post(f"{URL}/{request['id']}/approve", json={"note": "核实无误"}, auth=people["prov"])
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "approved" and approved["decided_by"] == "prov"
    assert approved["decision_note"] == "核实无误"
    assert approved["result"] == {"case_no": "K1", "voided_event_id": "k3", "status": "accepted"}

    detail = case(client)
    assert detail["status"] == "accepted"
    marks = {e["event_id"]: (e["voided"], e["void_approval_id"]) for e in detail["events"]}
    assert marks == {"k1": (False, None), "k2": (False, None), "k3": (True, request["id"])}
    # the event stays in the append-only log (QTH-1); the void is a row of its own
    assert session.scalar(select(func.count(CaseEvent.id))) == 3
    assert session.scalar(select(func.count(CaseEventVoid.id))) == 1
    assert (
        case(client)["status"]
        == client.get("/api/v1/cases", params={"case_no": "K1"}).json()["items"][0]["status"]
    )

    done = actions(session)
    assert done[-3:] == ["approval.request", "case_event.void", "approval.approve"]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "case_event.void"))
    assert entry is not None and '"status":"undertaken"' in (entry.before or "")
    assert '"status":"accepted"' in (entry.after or "")
    assert verify(session).ok


def test_a_later_push_replays_without_the_voided_event(
    client: TestClient, people: dict[str, SignedIn]
) -> None:
    push(client, county_ev("d1", "K2", "accepted", "2026-11-02T09:00:00+08:00"))
    push(client, county_ev("d2", "K2", "completed", "2026-11-04T09:00:00+08:00"))
    blocked = client.post(EVENTS_URL, json=[county_ev("d3", "K2", "undertaken", "2026-11-05T09:00:00+08:00")])
    assert blocked.status_code == 409  # nothing may follow a completed case
    request = ask(client, people["clerk"], kind="case_event_void", target="d2")
    assert client.post(f"{URL}/{request['id']}/approve", auth=people["prov"]).status_code == 200
    push(client, county_ev("d3", "K2", "undertaken", "2026-11-05T09:00:00+08:00"))
    assert case(client, "K2")["status"] == "undertaken"


def test_correct_voids_and_adds_the_replacement(
    client: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    replacement = county_ev("k2b", "K1", "accepted", "2026-11-03T09:00:00+08:00", staff_code="S002")
    request = ask(
        client, people["clerk"], kind="case_event_correct", target="k2", payload={"replacement": replacement}
    )
    assert request["payload"]["replacement"]["event_id"] == "k2b"
    assert case(client)["accepted_on"] == "2026-11-02"
    r = client.post(f"{URL}/{request['id']}/approve", auth=people["prov"])
    assert r.status_code == 200, r.text
    assert r.json()["result"]["replacement_event_id"] == "k2b"
    detail = case(client)
    assert detail["accepted_on"] == "2026-11-03" and detail["status"] == "undertaken"
    assert detail["staff_code"] == "S002"
    by_id = {e["event_id"]: e for e in detail["events"]}
    assert by_id["k2"]["voided"] is True and by_id["k2b"]["voided"] is False
    assert by_id["k2b"]["source"] == f"approval:{request['id']}"
    assert session.scalar(select(func.count(CaseEvent.id))) == 4
    assert "case_event.correct" in actions(session)
    assert verify(session).ok


def test_a_correction_whose_history_is_impossible_is_refused_when_asked(
    client: TestClient, people: dict[str, SignedIn]
) -> None:
    # accepted after undertaken (k3 on 11-03) cannot be
    replacement = county_ev("k2c", "K1", "accepted", "2026-11-05T09:00:00+08:00")
    r = client.post(
        URL,
        json={
            "kind": "case_event_correct",
            "target": "k2",
            "payload": {"replacement": replacement},
            "reason": "x",
        },
        auth=people["clerk"],
    )
    assert r.status_code == 409
    assert "impossible" in r.json()["detail"]


def test_nobody_decides_their_own_request(client: TestClient, people: dict[str, SignedIn]) -> None:
    request = ask(client, people["prov"], kind="case_event_void", target="k3")
    r = client.post(f"{URL}/{request['id']}/approve", auth=people["prov"])
    assert r.status_code == 403
    assert r.json()["detail"] == "you cannot decide your own request"
    assert case(client)["status"] == "undertaken"


def test_a_county_inspector_cannot_approve_a_provincial_kind(
    client: TestClient, people: dict[str, SignedIn]
) -> None:
    request = void_k3(client, people)
    r = client.post(f"{URL}/{request['id']}/approve", auth=people["county"])
    assert r.status_code == 403
    assert "provincial approval" in r.json()["detail"]
    assert case(client)["status"] == "undertaken"
    county_inbox = client.get(URL, params={"inbox": "true"}, auth=people["county"]).json()
    assert county_inbox == []
    assert [x["id"] for x in client.get(URL, params={"inbox": "true"}, auth=people["prov"]).json()] == [
        request["id"]
    ]


def test_an_approver_of_another_jurisdiction_sees_nothing(
    client: TestClient, people: dict[str, SignedIn]
) -> None:
    request = void_k3(client, people)
    other = people["hallonly"]
    missing = client.post(f"{URL}/999999/approve", auth=other)
    r = client.post(f"{URL}/{request['id']}/approve", auth=other)
    assert r.status_code == missing.status_code == 404
    assert client.get(f"{URL}/{request['id']}", auth=other).status_code == 404
    assert client.get(URL, auth=other).json() == []


def test_a_post_user_cannot_decide(client: TestClient, people: dict[str, SignedIn]) -> None:
    request = ask(client, people["prov"], kind="case_event_void", target="k3")
    r = client.post(f"{URL}/{request['id']}/approve", auth=people["clerk"])
    assert r.status_code == 403


def test_reject_needs_a_note_and_leaves_everything_unchanged(
    client: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    request = void_k3(client, people)
    assert client.post(f"{URL}/{request['id']}/reject", json={}, auth=people["prov"]).status_code == 422
    assert (
        client.post(f"{URL}/{request['id']}/reject", json={"note": "  "}, auth=people["prov"]).status_code
        == 422
    )
    r = client.post(f"{URL}/{request['id']}/reject", json={"note": "理由不充分"}, auth=people["prov"])
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert case(client)["status"] == "undertaken"
    assert session.scalar(select(func.count(CaseEventVoid.id))) == 0
    assert "approval.reject" in actions(session)
    again = client.post(f"{URL}/{request['id']}/approve", auth=people["prov"])
    assert again.status_code == 409


def test_deciding_twice_is_409(client: TestClient, people: dict[str, SignedIn]) -> None:
    request = void_k3(client, people)
    assert client.post(f"{URL}/{request['id']}/approve", auth=people["prov"]).status_code == 200
    assert client.post(f"{URL}/{request['id']}/approve", auth=people["prov2"]).status_code == 409
    assert (
        client.post(f"{URL}/{request['id']}/reject", json={"note": "晚了"}, auth=people["prov2"]).status_code
        == 409
    )


def test_only_the_requester_withdraws_and_only_while_pending(
    client: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    request = void_k3(client, people)
    assert client.post(f"{URL}/{request['id']}/withdraw", auth=people["prov"]).status_code == 403
    r = client.post(f"{URL}/{request['id']}/withdraw", auth=people["clerk"])
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert client.post(f"{URL}/{request['id']}/withdraw", auth=people["clerk"]).status_code == 409
    assert client.post(f"{URL}/{request['id']}/approve", auth=people["prov"]).status_code == 409
    assert case(client)["status"] == "undertaken"
    assert "approval.withdraw" in actions(session)


def test_mine_and_status_filters(client: TestClient, people: dict[str, SignedIn]) -> None:
    first = void_k3(client, people)
    second = ask(client, people["prov"], kind="case_event_void", target="k1")
    assert [x["id"] for x in client.get(URL, params={"mine": "true"}, auth=people["clerk"]).json()] == [
        first["id"]
    ]
    # a post user sees only their own requests, even with filters
    assert [x["id"] for x in client.get(URL, auth=people["clerk"]).json()] == [first["id"]]
    assert {x["id"] for x in client.get(URL, auth=people["prov2"]).json()} == {first["id"], second["id"]}
    client.post(f"{URL}/{second['id']}/withdraw", auth=people["prov"])
    pending = client.get(URL, params={"status": "pending"}, auth=people["prov2"]).json()
    assert [x["id"] for x in pending] == [first["id"]]
    assert client.get(URL, params={"status": "nope"}, auth=people["prov2"]).status_code == 422


def test_a_void_that_became_impossible_is_409_and_stays_pending(
    client: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    push(
        client,
        county_ev("e1", "K3", "received", "2026-11-02T09:00:00+08:00"),
        county_ev("e2", "K3", "accepted", "2026-11-02T10:00:00+08:00"),
    )
    one = ask(client, people["clerk"], kind="case_event_void", target="e1")
    two = ask(client, people["clerk"], kind="case_event_void", target="e2")
    assert client.post(f"{URL}/{one['id']}/approve", auth=people["prov"]).status_code == 200
    r = client.post(f"{URL}/{two['id']}/approve", auth=people["prov"])
    assert r.status_code == 409
    assert "without events" in r.json()["detail"]
    assert client.get(f"{URL}/{two['id']}", auth=people["clerk"]).json()["status"] == "pending"
    assert case(client, "K3")["status"] == "accepted"
    assert session.scalar(select(func.count(CaseEventVoid.id))) == 1
    assert verify(session).ok


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"kind": "nope", "target": "k3"}, 422, "unknown kind"),
        ({"kind": "case_event_void", "target": "k3", "reason": ""}, 422, "reason"),
        ({"kind": "case_event_void", "target": "k3", "reason": "x", "extra": 1}, 422, "extra"),
        ({"kind": "case_event_void", "target": "k3", "payload": {"why": "x"}}, 422, "why"),
        ({"kind": "case_event_correct", "target": "k3", "payload": {}}, 422, "replacement"),
        (
            {
                "kind": "case_event_correct",
                "target": "k3",
                "payload": {
                    "replacement": county_ev("n1", "OTHER", "undertaken", "2026-11-03T10:00:00+08:00")
                },
            },
            422,
            "same case",
        ),
        (
            {
                "kind": "case_event_correct",
                "target": "k3",
                "payload": {"replacement": county_ev("k1", "K1", "undertaken", "2026-11-03T10:00:00+08:00")},
            },
            422,
            "already stored",
        ),
        (
            {
                "kind": "case_event_correct",
                "target": "k3",
                "payload": {
                    "replacement": county_ev(
                        "n2", "K1", "undertaken", "2026-11-03T10:00:00+08:00", window_code="W99"
                    )
                },
            },
            422,
            "no window",
        ),
        *(
            (
                {
                    "kind": "case_event_correct",
                    "target": "k3",
                    "payload": {
                        "replacement": county_ev(
                            "n3", "K1", "undertaken", "2026-11-03T10:00:00+08:00", staff_code=staff
                        )
                    },
                },
                422,
                f"unknown staff_code {staff!r} at hall 510104-ZWFW",  # another hall's staff: as unknown
            )
            for staff in ("S001", "S999")
        ),
        ({"kind": "evidence_view", "target": "EV-1"}, 422, "hall_code"),
        (
            {"kind": "evidence_view", "target": "bad id!", "payload": {"hall_code": "510104-ZWFW"}},
            422,
            "evidence id",
        ),
        ({"kind": "case_event_void", "target": "no-such-event"}, 404, "no case event"),
        ({"kind": "case_event_void", "target": "bad id!"}, 404, "no case event"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    client: TestClient,
    people: dict[str, SignedIn],
    session: Session,
    body: dict[str, Any],
    status: int,
    needle: str,
) -> None:
    body = {"reason": "录入错误", **body}
    if body["reason"] == "":
        body["reason"] = "   "
    r = client.post(URL, json=body, auth=people["clerk"])
    assert r.status_code == status, r.text
    assert needle in str(r.json()["detail"])
    session.expire_all()
    assert client.get(URL, auth=people["clerk"]).json() == []


def test_another_jurisdictions_event_is_not_found(client: TestClient, people: dict[str, SignedIn]) -> None:
    push(
        client,
        {
            **county_ev("p1", "P1", "accepted", "2026-11-02T09:00:00+08:00"),
            "item_code": "SCJGJ-XK-001",
            "hall_code": "510000-ZWFW",
        },
    )
    r = client.post(
        URL, json={"kind": "case_event_void", "target": "p1", "reason": "x"}, auth=people["clerk"]
    )
    assert r.status_code == 404
    assert r.json()["detail"] == "no case event p1"


def test_the_same_pending_request_twice_is_409(client: TestClient, people: dict[str, SignedIn]) -> None:
    void_k3(client, people)
    r = client.post(
        URL, json={"kind": "case_event_void", "target": "k3", "reason": "x"}, auth=people["clerk"]
    )
    assert r.status_code == 409


def test_voiding_an_already_voided_event_is_409(client: TestClient, people: dict[str, SignedIn]) -> None:
    request = void_k3(client, people)
    client.post(f"{URL}/{request['id']}/approve", auth=people["prov"])
    r = client.post(URL, json={"kind": "case_event_void", "target": "k3", "reason": "x"}, auth=people["prov"])
    assert r.status_code == 409
    assert "already voided" in r.json()["detail"]


def test_a_void_that_a_later_event_depends_on_is_409_at_approval(
    client: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    push(
        client,
        county_ev("s1", "K4", "accepted", "2026-11-02T09:00:00+08:00"),
        county_ev("s2", "K4", "suspended", "2026-11-03T09:00:00+08:00", reason="专家评审"),
        county_ev("s3", "K4", "resumed", "2026-11-05T09:00:00+08:00"),
    )
    request = ask(client, people["clerk"], kind="case_event_void", target="s3")  # possible when asked
    push(client, county_ev("s4", "K4", "undertaken", "2026-11-06T09:00:00+08:00"))  # needs the resumption
    r = client.post(f"{URL}/{request['id']}/approve", auth=people["prov"])
    assert r.status_code == 409
    assert "impossible" in r.json()["detail"] and "s4" in r.json()["detail"]
    assert client.get(f"{URL}/{request['id']}", auth=people["clerk"]).json()["status"] == "pending"
    assert case(client, "K4")["status"] == "undertaken"
    assert session.scalar(select(func.count(CaseEventVoid.id))) == 0
