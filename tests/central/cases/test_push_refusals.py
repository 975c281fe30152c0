"""The event push tells a caller no more than a read would (issue #13, item 5): every reference of an
event (hall, item, window, staff, case, event id) that exists only outside the caller's jurisdiction
or in another hall is answered byte for byte as one that exists nowhere (modulo the code echoed)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.cases.models import Case, CaseEvent
from central.cases.schemas import CaseEventIn
from central.registry.models import Department, Item, ServiceWindow, Staff
from tests.central.cases.helpers import ev
from tests.conftest import login, make_user

EVENTS = "/api/v1/cases/events"
AT = "2026-11-02T09:00:00+08:00"
COUNTY = "510104-ZWFW"


@pytest.fixture
def clerk(
    client: TestClient, anon: TestClient, db: Engine, session: Session, registry: dict[str, int]
) -> dict[str, str]:
    """Beside the clerk's department SCJGJ (hall 510000, window W01, staff S001): department SWJ in the
    same hall (item, window W09, staff S009, case SW1) and JJSJ in the county hall (item, window K01,
    staff S002, case COUNTY1); a shared window W00. Returns the clerk's Authorization header."""
    for code, hall_id, window, staff in (
        ("SWJ", registry["hall"], "W09", "S009"),
        ("JJSJ", registry["county_hall"], "K01", "S002"),
    ):
        dept = Department(code=code, name=f"{code}局", hall_id=hall_id)
        session.add(dept)
        session.flush()
        session.add(
            Item(
                code=f"{code}-XK-001",
                name="许可",
                department_id=dept.id,
                legal_limit_days=20,
                fee=Decimal("0"),
            )
        )
        w = ServiceWindow(code=window, name=window, hall_id=hall_id, department_id=dept.id)
        session.add(w)
        session.flush()
        session.add(Staff(code=staff, name=f"{code}的人", department_id=dept.id, window_id=w.id))
    session.add(ServiceWindow(code="W00", name="综合窗口", hall_id=registry["hall"], department_id=None))
    session.commit()
    others = [
        ev("sw1-acc", "SW1", "accepted", AT, item_code="SWJ-XK-001", window_code="W09", staff_code="S009"),
        ev("k1-acc", "COUNTY1", "accepted", AT, item_code="JJSJ-XK-001", hall_code=COUNTY, window_code="K01"),
    ]
    assert client.post(EVENTS, json=others).status_code == 200
    make_user(db, "clerk", role=Role.POST_USER, scope="department:SCJGJ")
    return login(anon, "clerk", "correct-horse-battery-2026")


def own(event_id: str = "x1", case_no: str = "P9", kind: str = "accepted", **extra: Any) -> dict[str, Any]:
    """An event the clerk may post (stored as it is): its own item, hall, window and staff."""
    return ev(event_id, case_no, kind, AT, **{"window_code": "W01", "staff_code": "S001", **extra})


# (field, what the foreign value is, the event with it, the same event with a value that exists nowhere)
PATHS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("hall_code", "another hall", own(hall_code=COUNTY), own(hall_code="NOPE-ZWFW")),
    ("item_code", "another department's item", own(item_code="SWJ-XK-001"), own(item_code="NOPE-XK-1")),
    ("item_code", "another hall's item", own(item_code="JJSJ-XK-001"), own(item_code="NOPE-XK-1")),
    ("window_code", "another department's window", own(window_code="W09"), own(window_code="W98")),
    ("window_code", "another hall's window", own(window_code="K01"), own(window_code="W98")),
    ("staff_code", "another department's staff", own(staff_code="S009"), own(staff_code="S998")),
    ("staff_code", "another hall's staff", own(staff_code="S002"), own(staff_code="S998")),
    (
        "case_no",
        "another department's case",
        own(case_no="SW1", kind="undertaken"),
        own(case_no="NOPE1", kind="undertaken"),
    ),
    (
        "case_no",
        "another hall's case",
        own(case_no="COUNTY1", kind="undertaken"),
        own(case_no="NOPE1", kind="undertaken"),
    ),
    (
        "event_id",
        "another department's event",
        own("sw1-acc", kind="undertaken"),
        own("nope-ev", kind="undertaken"),
    ),
    (
        "event_id",
        "another hall's event, its content exactly",
        ev("k1-acc", "COUNTY1", "accepted", AT, item_code="JJSJ-XK-001", hall_code=COUNTY, window_code="K01"),
        ev(
            "nope-ev", "COUNTY1", "accepted", AT, item_code="JJSJ-XK-001", hall_code=COUNTY, window_code="K01"
        ),
    ),
]


def answer(anon: TestClient, headers: dict[str, str], event: dict[str, Any], value: str) -> tuple[int, str]:
    response = anon.post(EVENTS, json=[event], headers=headers)
    return response.status_code, response.text.replace(value, "<REF>")


def changed(foreign: dict[str, Any], missing: dict[str, Any]) -> tuple[str, str]:
    (key,) = [k for k in foreign if foreign[k] != missing[k] and k != "type"] or ["?"]
    return str(foreign[key]), str(missing[key])


def test_every_reference_of_an_event_is_walked() -> None:
    references = {name for name in CaseEventIn.model_fields if name.endswith("_code")} | {
        "case_no",
        "event_id",
    }
    assert {path[0] for path in PATHS} == references


@pytest.mark.parametrize(
    ("field", "what", "foreign", "missing"), PATHS, ids=[f"{p[0]}: {p[1]}" for p in PATHS]
)
def test_a_reference_outside_answers_as_one_that_does_not_exist(
    anon: TestClient,
    clerk: dict[str, str],
    session: Session,
    field: str,
    what: str,
    foreign: dict[str, Any],
    missing: dict[str, Any],
) -> None:
    assert anon.post(EVENTS, json=[own("ok-1", "P1")], headers=clerk).status_code == 200  # the clerk can push
    foreign_value, missing_value = changed(foreign, missing)
    status, text = answer(anon, clerk, foreign, foreign_value)
    assert 400 <= status < 500, text
    assert (status, text) == answer(anon, clerk, missing, missing_value)
    session.expire_all()  # and nothing was written, least of all to what lies outside
    assert set(session.scalars(select(CaseEvent.event_id))) == {"sw1-acc", "k1-acc", "ok-1"}
    assert session.scalar(select(Case.event_count).where(Case.case_no == "SW1")) == 1


def test_an_identifier_held_outside_is_in_use_and_says_nothing_more(
    anon: TestClient, client: TestClient, clerk: dict[str, str]
) -> None:
    """Case numbers and event ids are unique everywhere, so where a new one would be stored the
    answer must refuse; it says the identifier is in use, the same for every holder and content."""
    answers = set()
    for case_no in ("SW1", "COUNTY1"):
        status, text = answer(anon, clerk, own("fresh-1", case_no), case_no)
        assert status == 409 and "case_no <REF> is already in use" in text
        answers.add(text)
    assert len(answers) == 1
    answers = set()
    for event in (own("sw1-acc"), own("k1-acc"), own("sw1-acc", case_no="P7", applicant_name="王五")):
        status, text = answer(anon, clerk, event, event["event_id"])
        assert status == 409 and "event_id <REF> is already in use" in text
        answers.add(text.replace(event["case_no"], "<CASE>"))
    assert len(answers) == 1
    for case_no in ("SW1", "COUNTY1"):  # as a read answers
        assert anon.get(f"/api/v1/cases/{case_no}", headers=clerk).status_code == 404
    # Inside the jurisdiction the caller hears everything, as a read would tell it.
    assert client.post(EVENTS, json=[own("sw1-acc", "SW1")]).status_code == 409
    assert (
        anon.post(
            EVENTS, json=[own("x1", "P1"), own("x2", "P2", window_code="W00")], headers=clerk
        ).status_code
        == 200
    )
    again = anon.post(EVENTS, json=[own("x1", "P1")], headers=clerk).json()
    assert again["results"][0]["outcome"] == "duplicate"
