"""Jurisdiction is enforced in the queries: province, city, county and department users (SC-13/14)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.registry.models import Department, Hall, Item, Region
from tests.central.cases.helpers import ev
from tests.conftest import make_user

PASSWORD = "correct-horse-battery-2026"


@pytest.fixture
def three_halls(client: TestClient, registry, session: Session) -> None:
    """Cases at the provincial hall (510000), a city hall (510100) and a county hall (510104)."""
    city = session.scalar(select(Region).where(Region.code == "510100"))
    assert city is not None
    city_hall = Hall(code="510100-ZWFW", name="成都市政务服务中心", region_id=city.id, level="city")
    session.add(city_hall)
    session.flush()
    for hall_id, code in ((city_hall.id, "CDSJ"), (registry["county_hall"], "JJSJ")):
        dept = Department(code=code, name=f"{code}局", hall_id=hall_id)
        session.add(dept)
        session.flush()
        session.add(
            Item(
                code=f"{code}-XK-001",
                name="许可",
                department_id=dept.id,
                legal_limit_days=20,
                promised_limit_days=10,
                fee=Decimal("0"),
            )
        )
    session.commit()
    batch = [
        ev("p1", "P1", "accepted", "2026-11-02T09:00:00+08:00"),
        ev(
            "c1",
            "CITY1",
            "accepted",
            "2026-11-02T09:00:00+08:00",
            item_code="CDSJ-XK-001",
            hall_code="510100-ZWFW",
        ),
        ev(
            "k1",
            "COUNTY1",
            "accepted",
            "2026-11-02T09:00:00+08:00",
            item_code="JJSJ-XK-001",
            hall_code="510104-ZWFW",
        ),
    ]
    assert client.post("/api/v1/cases/events", json=batch).status_code == 200


def as_user(client: TestClient, db, username: str, role: Role, scope: str) -> dict[str, str]:
    make_user(db, username, role=role, scope=scope)
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.parametrize(
    ("role", "scope", "visible"),
    [
        (Role.INSPECTOR, "region:510000", {"P1", "CITY1", "COUNTY1"}),  # province sees all
        (Role.INSPECTOR, "region:510100", {"CITY1", "COUNTY1"}),  # city sees city and its counties
        (Role.INSPECTOR, "region:510104", {"COUNTY1"}),  # county sees only the county
        (Role.INSPECTOR, "hall:510100-ZWFW", {"CITY1"}),
        (Role.POST_USER, "department:SCJGJ", {"P1"}),  # a post user sees their department's cases
    ],
)
def test_each_user_reads_only_their_jurisdiction(
    anon: TestClient, client: TestClient, db, three_halls, role: Role, scope: str, visible: set[str]
) -> None:
    headers = as_user(anon, db, "user1", role, scope)
    listed = anon.get("/api/v1/cases", headers=headers).json()
    assert {c["case_no"] for c in listed["items"]} == visible
    assert listed["total"] == len(visible)
    for case_no in ("P1", "CITY1", "COUNTY1"):
        r = anon.get(f"/api/v1/cases/{case_no}", headers=headers)
        # another jurisdiction's case answers exactly like a case that does not exist
        assert r.status_code == (200 if case_no in visible else 404)
        if case_no not in visible:
            assert r.json() == anon.get("/api/v1/cases/NO-SUCH-CASE", headers=headers).json() | {
                "detail": f"no case {case_no}"
            }
    summary = anon.get("/api/v1/cases/lights/summary", headers=headers).json()
    assert summary["green"] + summary["yellow"] + summary["red"] == len(visible)


def test_post_user_cannot_push_events_for_another_department(anon: TestClient, db, three_halls) -> None:
    headers = as_user(anon, db, "clerk", Role.POST_USER, "department:SCJGJ")
    mine = ev("p2", "P2", "accepted", "2026-11-03T09:00:00+08:00")
    assert anon.post("/api/v1/cases/events", json=[mine], headers=headers).status_code == 200
    theirs = ev(
        "k2",
        "COUNTY2",
        "accepted",
        "2026-11-03T09:00:00+08:00",
        item_code="JJSJ-XK-001",
        hall_code="510104-ZWFW",
    )
    r = anon.post("/api/v1/cases/events", json=[theirs], headers=headers)
    assert r.status_code == 422
    assert "unknown hall_code" in r.json()["results"][0]["detail"]  # not "forbidden": existence is not leaked


def test_inspector_may_read_but_not_write(anon: TestClient, db, three_halls) -> None:
    headers = as_user(anon, db, "insp", Role.INSPECTOR, "region:510000")
    r = anon.post(
        "/api/v1/cases/events", json=[ev("x", "X1", "accepted", "2026-11-03T09:00:00+08:00")], headers=headers
    )
    assert r.status_code == 403
    assert anon.post("/api/v1/calendar/years", json={"year": 2027}, headers=headers).status_code == 403


def test_registry_reads_are_limited_to_the_jurisdiction(anon: TestClient, db, three_halls) -> None:
    county = as_user(anon, db, "county", Role.INSPECTOR, "region:510104")
    assert [h["code"] for h in anon.get("/api/v1/halls", headers=county).json()] == ["510104-ZWFW"]
    assert [d["code"] for d in anon.get("/api/v1/departments", headers=county).json()] == ["JJSJ"]
    city = as_user(anon, db, "city", Role.INSPECTOR, "region:510100")
    assert {h["code"] for h in anon.get("/api/v1/halls", headers=city).json()} == {
        "510100-ZWFW",
        "510104-ZWFW",
    }
    clerk = as_user(anon, db, "clerk", Role.POST_USER, "department:SCJGJ")
    assert [w["code"] for w in anon.get("/api/v1/windows", headers=clerk).json()] == ["W01"]
    assert [s["code"] for s in anon.get("/api/v1/staff", headers=county).json()] == []
