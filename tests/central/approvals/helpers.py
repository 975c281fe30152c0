"""A county hall with a case, and the people who ask for and decide approvals (SC-18)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.registry.models import Department, Item, Staff
from tests.central.cases.helpers import ev
from tests.conftest import SignedIn, make_user

PASSWORD = "correct-horse-battery-2026"
COUNTY_HALL = "510104-ZWFW"
COUNTY_ITEM = "JJSJ-XK-001"
EVENTS_URL = "/api/v1/cases/events"
URL = "/api/v1/approvals"

# username → (role, scope)
PEOPLE: dict[str, tuple[Role, str]] = {
    "clerk": (Role.POST_USER, "department:JJSJ"),  # a county post user: asks, cannot decide
    "prov": (Role.INSPECTOR, "region:510000"),  # provincial inspector: decides everything
    "prov2": (Role.INSPECTOR, "region:510000"),
    "county": (Role.INSPECTOR, "region:510104"),  # county inspector: decides local requests there
    "hallonly": (Role.INSPECTOR, "hall:510000-ZWFW"),  # the provincial hall only: not the county
}


def county_ev(event_id: str, case_no: str, kind: str, at: str, **extra: Any) -> dict[str, Any]:
    return ev(event_id, case_no, kind, at, item_code=COUNTY_ITEM, hall_code=COUNTY_HALL, **extra)


def add_county_department(session: Session, county_hall_id: int) -> None:
    dept = Department(code="JJSJ", name="锦江区市场监管局", hall_id=county_hall_id)
    session.add(dept)
    session.flush()
    session.add(
        Item(
            code=COUNTY_ITEM,
            name="食品经营许可（区）",
            department_id=dept.id,
            legal_limit_days=20,
            promised_limit_days=10,
            fee=Decimal("0"),
        )
    )
    session.add(Staff(code="S002", name="李四", department_id=dept.id))  # the county hall's own staff
    session.commit()


def add_people(db: Engine) -> dict[str, SignedIn]:
    for name, (role, scope) in PEOPLE.items():
        make_user(db, name, role=role, scope=scope, password=PASSWORD)
    return {name: SignedIn(name, PASSWORD) for name in PEOPLE}


def push(client: TestClient, *events: dict[str, Any]) -> None:
    r = client.post(EVENTS_URL, json=list(events))
    assert r.status_code == 200, r.text
