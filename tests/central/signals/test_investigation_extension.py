"""An investigation's one extension (SC-9): at most 10 working days, only once, only when approved."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.access.roles import Role
from tests.central.signals.helpers import COUNTY_DEPT, add_county_department, headers_for
from tests.conftest import ROOT_PASSWORD, with_form_token


def _open(anon: TestClient, db: Engine, session: Session) -> tuple[int, dict[str, str], dict[str, str]]:
    add_county_department(session)
    province = headers_for(anon, db, "pinsp", Role.INSPECTOR, "region:510000")
    county = headers_for(anon, db, "cinsp", Role.INSPECTOR, "region:510104")
    signal = anon.post(
        "/api/v1/signals",
        json={"reason_code": "unlawful_fees", "reason": "违规收取加急费", "department_code": COUNTY_DEPT},
        headers=province,
    ).json()
    opened = anon.post(
        "/api/v1/investigations",
        json={"signal_id": signal["id"], "assignee_scope": "region:510104"},
        headers=province,
    )
    assert opened.status_code == 201, opened.text
    return opened.json()["id"], province, county


def _ask(anon: TestClient, headers: dict[str, str], investigation_id: int, days: object) -> object:
    body = {
        "kind": "investigation_extension",
        "target": str(investigation_id),
        "payload": {"days": days},
        "reason": "案情复杂，需调取外地材料",
    }
    return anon.post("/api/v1/approvals", json=body, headers=headers)


def test_extension_waits_for_approval_then_moves_the_deadline_once(
    anon: TestClient, db: Engine, session: Session, clock, registry: dict[str, int]
) -> None:
    clock.set_shanghai(
        2026, 9, 1
    )  # Tuesday: 15 working days later is Monday 2026-09-21 (Sunday 09-20 is worked)
    investigation_id, province, county = _open(anon, db, session)
    url = f"/api/v1/investigations/{investigation_id}"
    assert anon.get(url, headers=county).json()["due_date"] == "2026-09-21"

    assert _ask(anon, county, investigation_id, 11).status_code == 422  # the profile caps it at 10
    assert _ask(anon, county, investigation_id, 0).status_code == 422
    assert _ask(anon, county, investigation_id, "ten").status_code == 422
    asked = _ask(anon, county, investigation_id, 10)
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    assert anon.get(url, headers=county).json()["due_date"] == "2026-09-21"  # nothing moves until approved
    own = anon.post(f"/api/v1/approvals/{request_id}/approve", json={}, headers=county)
    assert own.status_code == 403

    approved = anon.post(
        f"/api/v1/approvals/{request_id}/approve", json={"note": "同意延期"}, headers=province
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["result"]["due_date"] == "2026-10-12"  # across Mid-Autumn and National Day
    after = anon.get(url, headers=county).json()
    assert (after["due_date"], after["extensions"], after["extension_days"]) == ("2026-10-12", 1, 10)

    again = _ask(anon, county, investigation_id, 1)
    assert again.status_code == 409 and "already extended" in again.text


def test_extension_needs_the_assignee_and_a_known_calendar(
    anon: TestClient, db: Engine, session: Session, clock, registry: dict[str, int]
) -> None:
    investigation_id, province, county = _open(anon, db, session)  # 2026-11-27: due 2026-12-18
    outsider = headers_for(anon, db, "clerk", Role.POST_USER, "department:SCJGJ")
    assert _ask(anon, outsider, investigation_id, 5).status_code == 404  # not theirs to see
    assert _ask(anon, county, 999999, 5).status_code == 404
    asked = _ask(anon, county, investigation_id, 10)
    assert asked.status_code == 201
    # 10 working days after 2026-12-18 fall in 2027, which the calendar does not hold yet.
    refused = anon.post(f"/api/v1/approvals/{asked.json()['id']}/approve", json={}, headers=province)
    assert refused.status_code == 409 and "calendar" in refused.text
    detail = anon.get(f"/api/v1/approvals/{asked.json()['id']}", headers=province).json()
    assert detail["status"] == "pending"
    assert (
        anon.get(f"/api/v1/investigations/{investigation_id}", headers=county).json()["due_date"]
        == "2026-12-18"
    )


def test_extension_is_asked_from_the_investigation_page(
    anon: TestClient, db: Engine, session: Session, clock, registry: dict[str, int]
) -> None:
    clock.set_shanghai(2026, 9, 1)
    investigation_id, _province, _county = _open(anon, db, session)
    signed = anon.post(
        "/console/login", data={"username": "cinsp", "password": ROOT_PASSWORD}, follow_redirects=False
    )
    assert signed.status_code == 303
    with_form_token(anon)
    page = anon.get(f"/console/investigations/{investigation_id}")
    assert page.status_code == 200 and "申请延期" in page.text
    url = f"/console/investigations/{investigation_id}/extension"
    missing = anon.post(url, data={"days": "", "reason": "复杂"})
    assert missing.status_code == 400 and "延期天数" in missing.text
    too_long = anon.post(url, data={"days": "12", "reason": "复杂"})
    assert too_long.status_code == 422 and "10 个工作日" in too_long.text
    asked = anon.post(url, data={"days": "5", "reason": "需外地调查取证"}, follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"].startswith("/console/approvals/")
    assert anon.get(asked.headers["location"]).status_code == 200
