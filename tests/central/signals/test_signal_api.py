"""Signals raised by hand and moved through their lifecycle by the right people (SZ-11..13, SC-15)."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.audit.chain import verify
from central.audit.models import AuditEntry
from tests.central.cases.helpers import ev
from tests.central.signals.helpers import COUNTY_DEPT, add_county_department, headers_for
from tests.conftest import ROOT_PASSWORD, login


@pytest.fixture
def places(session: Session, registry: dict[str, int]) -> dict[str, int]:
    return {**registry, "county_department": add_county_department(session)}


def _push_case(client: TestClient, case_no: str = "HW-1") -> None:
    r = client.post(
        "/api/v1/cases/events", json=[ev(f"{case_no}-a", case_no, "accepted", "2026-11-20T09:00:00+08:00")]
    )
    assert r.status_code == 200, r.text


def _yellow(client: TestClient, **extra: str) -> dict:
    body = {"reason_code": "corrections_not_told_at_once", "reason": "补正材料分三次告知申请人", **extra}
    r = client.post("/api/v1/signals", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_yellow_signal_runs_from_issue_to_close_with_each_role(
    client: TestClient, anon: TestClient, db: Engine, session: Session, places: dict[str, int]
) -> None:
    _push_case(client)
    signal = _yellow(client, case_no="HW-1", evidence="窗口录像 2026-11-26 10:02")
    # Friday 2026-11-27: one working day to correct is Monday 2026-11-30 (SZ-11).
    assert signal["color"] == "yellow" and signal["status"] == "issued"
    assert signal["correct_by"] == "2026-11-30" and signal["case_no"] == "HW-1"
    assert signal["department_code"] == "SCJGJ" and signal["reason_label"] == "未一次性告知需补正的全部内容"

    clerk = headers_for(anon, db, "clerk", Role.POST_USER, "department:SCJGJ")
    url = f"/api/v1/signals/{signal['id']}/actions"
    mine = anon.get("/api/v1/signals", params={"mine": "true"}, headers=clerk).json()
    assert [s["id"] for s in mine["items"]] == [signal["id"]]
    assert mine["items"][0]["allowed_actions"] == ["acknowledge", "correct"]
    assert anon.post(url, json={"action": "acknowledge"}, headers=clerk).json()["status"] == "acknowledged"
    corrected = anon.post(
        url, json={"action": "correct", "note": "已一次性告知，并向申请人致歉"}, headers=clerk
    )
    assert corrected.status_code == 200 and corrected.json()["status"] == "corrected"
    # The department may not judge itself.
    refused = anon.post(url, json={"action": "close", "note": "ok", "finding": "no_fault"}, headers=clerk)
    assert refused.status_code == 403

    inspector = headers_for(anon, db, "insp", Role.INSPECTOR, "region:510000")
    closed = anon.post(
        url, json={"action": "close", "note": "核实已纠正", "finding": "no_fault"}, headers=inspector
    )
    assert closed.status_code == 200, closed.text
    detail = closed.json()
    assert detail["status"] == "closed" and detail["finding"] == "no_fault" and detail["closed_at"]
    assert [(e["action"], e["to_status"], e["actor"]) for e in detail["events"]] == [
        ("acknowledge", "acknowledged", "user:clerk"),
        ("correct", "corrected", "user:clerk"),
        ("close", "closed", "user:insp"),
    ]
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "signal")).all()
    assert actions == ["signal.raise", "signal.acknowledge", "signal.correct", "signal.close"]
    assert verify(session).ok


def test_red_reason_is_red_at_once_and_an_escalated_yellow_turns_red(
    client: TestClient, places: dict[str, int]
) -> None:
    red = client.post(
        "/api/v1/signals",
        json={"reason_code": "unlawful_fees", "reason": "收取未公布的加急费", "department_code": "SCJGJ"},
    ).json()
    assert red["color"] == "red" and red["correct_by"] is None and red["case_no"] is None
    yellow = _yellow(client, department_code="SCJGJ")
    r = client.post(
        f"/api/v1/signals/{yellow['id']}/actions", json={"action": "escalate", "note": "拒不纠正"}
    )
    assert r.status_code == 200
    assert (r.json()["color"], r.json()["initial_color"], r.json()["status"]) == (
        "red",
        "yellow",
        "escalated",
    )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"reason_code": "no_such", "reason": "xxxx", "department_code": "SCJGJ"}, "unknown reason_code"),
        ({"reason_code": "light_red", "reason": "xxxx", "department_code": "SCJGJ"}, "unknown reason_code"),
        ({"reason_code": "other_minor", "reason": "xxxx"}, "name the case"),
        ({"reason_code": "other_minor", "reason": "x", "department_code": "SCJGJ"}, "reason"),
        ({"reason_code": "other_minor", "reason": "xxxx", "department_code": "NOPE"}, "no department"),
        ({"reason_code": "other_minor", "reason": "xxxx", "case_no": "HW-404"}, "no case"),
        (
            {"reason_code": "other_minor", "reason": "xxxx", "department_code": "SCJGJ", "color": "green"},
            "extra",
        ),
        ({"reason_code": "other_minor", "reason": "x" * 2001, "department_code": "SCJGJ"}, "reason"),
    ],
)
def test_bad_manual_signals_are_refused_with_the_reason(
    client: TestClient, places: dict[str, int], body: dict, needle: str
) -> None:
    r = client.post("/api/v1/signals", json=body)
    assert r.status_code == 422 and needle in r.text, r.text


def test_roles_jurisdiction_and_impossible_steps(
    client: TestClient, anon: TestClient, db: Engine, places: dict[str, int]
) -> None:
    province = _yellow(client, department_code="SCJGJ")
    county = _yellow(client, department_code=COUNTY_DEPT)
    county_insp = headers_for(anon, db, "cinsp", Role.INSPECTOR, "region:510104")
    clerk = headers_for(anon, db, "clerk", Role.POST_USER, "department:SCJGJ")

    listed = anon.get("/api/v1/signals", headers=county_insp).json()
    assert [s["id"] for s in listed["items"]] == [county["id"]]
    assert [s["id"] for s in anon.get("/api/v1/signals", headers=clerk).json()["items"]] == [province["id"]]
    # Another jurisdiction's signal is a 404, exactly like a missing one.
    hidden = anon.get(f"/api/v1/signals/{province['id']}", headers=county_insp)
    missing = anon.get("/api/v1/signals/999999", headers=county_insp)
    assert hidden.status_code == missing.status_code == 404
    acting = anon.post(
        f"/api/v1/signals/{province['id']}/actions",
        json={"action": "escalate", "note": "x"},
        headers=county_insp,
    )
    assert acting.status_code == 404
    # A county inspector cannot raise a signal about the province's department or its cases.
    r = anon.post(
        "/api/v1/signals",
        json={"reason_code": "other_minor", "reason": "越权", "department_code": "SCJGJ"},
        headers=county_insp,
    )
    assert r.status_code == 422 and "jurisdiction" in r.text
    # Post users respond; they do not raise or escalate.
    assert (
        anon.post(
            "/api/v1/signals",
            json={"reason_code": "other_minor", "reason": "xxxx", "department_code": "SCJGJ"},
            headers=clerk,
        ).status_code
        == 403
    )
    url = f"/api/v1/signals/{province['id']}/actions"
    assert anon.post(url, json={"action": "escalate", "note": "x"}, headers=clerk).status_code == 403
    # Steps the lifecycle does not allow: 409 with the reason; shapes it cannot take: 422.
    assert client.post(url, json={"action": "close", "note": "x", "finding": "fault"}).status_code == 409
    assert client.post(url, json={"action": "correct"}).status_code == 422  # no note
    assert client.post(url, json={"action": "investigate"}).status_code == 422
    assert client.post(url, json={"action": "acknowledge", "finding": "fault"}).status_code == 422
    assert client.post(url, json={"action": "explode"}).status_code == 422
    assert client.post("/api/v1/signals/0/actions", json={"action": "acknowledge"}).status_code == 422


def test_reasons_catalog_lists_the_rule_lists(client: TestClient) -> None:
    reasons = {r["code"]: r for r in client.get("/api/v1/signals/reasons").json()}
    assert reasons["unlawful_fees"]["color"] == "red" and reasons["unlawful_fees"]["rule"] == "SZ-12"
    assert reasons["late_decision"]["color"] == "yellow" and reasons["late_decision"]["rule"] == "SZ-11"
    assert reasons["due_date"]["manual"] is False


def test_investigation_is_assigned_down_reported_and_closes_its_signal(
    client: TestClient, anon: TestClient, db: Engine, clock, places: dict[str, int]
) -> None:
    province_insp = headers_for(anon, db, "pinsp", Role.INSPECTOR, "region:510000")
    county_insp = headers_for(anon, db, "cinsp", Role.INSPECTOR, "region:510104")
    red = anon.post(
        "/api/v1/signals",
        json={
            "reason_code": "changed_procedure",
            "reason": "擅自增加申请材料",
            "department_code": COUNTY_DEPT,
        },
        headers=province_insp,
    ).json()
    # Upward assignment is refused; so is one that does not cover the department.
    up = anon.post(
        "/api/v1/investigations",
        json={"signal_id": red["id"], "assignee_scope": "region:510000"},
        headers=county_insp,
    )
    assert up.status_code == 422 and "downward" in up.text
    aside = anon.post(
        "/api/v1/investigations",
        json={"signal_id": red["id"], "assignee_scope": "hall:510000-ZWFW"},
        headers=province_insp,
    )
    assert aside.status_code == 422 and "does not cover" in aside.text

    opened = anon.post(
        "/api/v1/investigations",
        json={"signal_id": red["id"], "assignee_scope": "region:510104"},
        headers=province_insp,
    )
    assert opened.status_code == 201, opened.text
    inv = opened.json()
    # Friday 2026-11-27 + 15 working days (SC-9) = Friday 2026-12-18.
    assert inv["due_date"] == "2026-12-18" and inv["working_days_left"] == 15 and not inv["overdue"]
    assert client.get(f"/api/v1/signals/{red['id']}").json()["status"] == "investigating"
    again = anon.post(
        "/api/v1/investigations",
        json={"signal_id": red["id"], "assignee_scope": "region:510104"},
        headers=province_insp,
    )
    assert again.status_code == 409

    seen = anon.get("/api/v1/investigations", headers=county_insp).json()
    assert [i["id"] for i in seen["items"]] == [inv["id"]]
    clock.set_shanghai(2026, 12, 21)  # the next Monday: one working day late
    county_insp = login(anon, "cinsp", ROOT_PASSWORD)  # the old token expired meanwhile
    late = anon.get("/api/v1/investigations", params={"overdue": "true"}, headers=county_insp).json()
    assert [(i["id"], i["overdue"], i["working_days_left"]) for i in late["items"]] == [(inv["id"], True, -1)]

    body = {"report": "经查，该局擅自增加两项申请材料，已责令整改", "finding": "fault"}
    reported = anon.post(f"/api/v1/investigations/{inv['id']}/report", json=body, headers=county_insp)
    assert reported.status_code == 200, reported.text
    assert reported.json()["status"] == "reported" and not reported.json()["overdue"]
    signal = client.get(f"/api/v1/signals/{red['id']}").json()
    assert (signal["status"], signal["finding"]) == ("closed", "fault")
    assert [e["action"] for e in signal["events"]] == ["investigate", "close"]
    twice = anon.post(f"/api/v1/investigations/{inv['id']}/report", json=body, headers=county_insp)
    assert twice.status_code == 409
    assert client.get("/api/v1/investigations", params={"overdue": "true"}).json()["total"] == 0
    assert date.fromisoformat(reported.json()["due_date"]) == date(2026, 12, 18)
