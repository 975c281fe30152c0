"""Deployment-wide settings (issue #13 item 2): calendar years, rule profiles and registry imports
beyond one's region need the deployment (*) or a province scope; replacing a year needs an approval.

The write routes are found from the app (every non-GET route of the calendar, profiles and registry
modules, and any route naming them), so a new one fails here until it carries a scope check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from central.access.roles import Role
from central.access.scope import SCOPE_CHECKS
from central.app import create_app
from central.calendar.models import CalendarYear
from central.cli.main import app
from central.registry.models import Department, Region
from tests.central.calendar.test_calendar_entry import YEAR_2027
from tests.central.cases.helpers import ev
from tests.conftest import SignedIn, make_user

PASSWORD = "correct-horse-battery-2026"
WIDE_MODULES = ("central.calendar", "central.profiles", "central.registry")
WIDE_WORDS = ("calendar", "profile", "registry")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# who → scope of a system administrator, and whether it is deployment-wide
ADMINS: dict[str, tuple[str, bool]] = {
    "county": ("region:510104", False),
    "city": ("region:510100", False),
    "province": ("region:510000", True),
    "deployment": ("*", True),
}

# Touches the provincial hall (a new department) and chooses a rule profile for the county.
WIDE_REGISTRY = """\
regions:
  - {code: "510104", name: 锦江区, level: county, parent: "510100", rule_profile: sichuan-2011}
departments:
  - {code: "SCJGJ2", name: 省市场监管二局, hall: "510000-ZWFW"}
"""


def _calendar_year(client: TestClient) -> Any:
    return client.post("/api/v1/calendar/years", json=YEAR_2027)


def _registry_import(client: TestClient) -> Any:
    return client.post(
        "/api/v1/registry/import",
        content=WIDE_REGISTRY.encode(),
        headers={"Content-Type": "application/yaml"},
    )


# Every deployment-wide write: how to call it, and the status a wide scope gets.
WIDE_WRITES: dict[tuple[str, str], tuple[Callable[[TestClient], Any], int]] = {
    ("POST", "/api/v1/calendar/years"): (_calendar_year, 201),
    ("POST", "/api/v1/registry/import"): (_registry_import, 200),
}


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def _routes(routes: list[Any]) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every API and page route, through included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, route
        elif hasattr(route, "effective_route_contexts"):  # FastAPI ≥ 0.165 keeps included routers whole
            for context in route.effective_route_contexts():
                if isinstance(context.original_route, APIRoute):
                    yield context.path, context.original_route


def _wide_write_routes() -> set[tuple[str, str]]:
    found = set()
    for path, route in _routes(create_app().routes):
        if not route.methods & WRITES:
            continue
        module = route.endpoint.__module__
        if module.startswith(WIDE_MODULES) or any(word in path for word in WIDE_WORDS):
            found |= {(method, path) for method in route.methods & WRITES}
            assert set(_calls(route.dependant)) & SCOPE_CHECKS, f"{path} has no scope check"
    return found


def test_every_deployment_wide_write_carries_a_scope_check_and_is_walked() -> None:
    assert _wide_write_routes() == set(WIDE_WRITES)


@pytest.fixture
def admins(client: TestClient, registry: dict[str, int], db: Any) -> dict[str, SignedIn]:
    for name, (scope, _wide) in ADMINS.items():
        make_user(db, f"sa-{name}", role=Role.SYSADMIN, scope=scope, password=PASSWORD)
    return {name: SignedIn(f"sa-{name}", PASSWORD) for name in ADMINS}


@pytest.mark.parametrize("who", sorted(ADMINS))
@pytest.mark.parametrize("write", sorted(WIDE_WRITES))
def test_wide_writes_need_a_wide_scope(
    client: TestClient, admins: dict[str, SignedIn], session: Session, who: str, write: tuple[str, str]
) -> None:
    send, ok = WIDE_WRITES[write]
    client.auth = admins[who]
    before = _state(session)
    r = send(client)
    if ADMINS[who][1]:
        assert r.status_code == ok, r.text
        assert _state(session) != before
    else:
        assert r.status_code in (403, 422), r.text
        assert ADMINS[who][0].removeprefix("region:") in r.text
        session.expire_all()
        assert _state(session) == before


def _state(session: Session) -> tuple[Any, ...]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(CalendarYear)),
        session.scalar(select(func.count()).select_from(Department)),
        session.scalar(select(Region.rule_profile).where(Region.code == "510104")),
    )


def test_a_county_import_names_every_entry_beyond_its_region(
    client: TestClient, admins: dict[str, SignedIn], session: Session
) -> None:
    client.auth = admins["county"]
    r = _registry_import(client)
    assert r.status_code == 422
    problems = {(p["place"], p["line"]): p["message"] for p in r.json()["problems"]}
    assert "needs the deployment (*) or a province scope" in problems[("regions[0].rule_profile", 2)]
    assert "region 510104 is not below your jurisdiction (510104)" in problems[("regions[0].code", 2)]
    assert "hall 510000-ZWFW is outside" in problems[("departments[0].hall", 4)]


def test_a_region_imports_inside_its_subtree(
    client: TestClient, admins: dict[str, SignedIn], session: Session
) -> None:
    own = 'departments: [{code: "JJ-NEW", name: 锦江新局, hall: "510104-ZWFW"}]\n'
    moved = 'departments: [{code: "SCJGJ", name: 省市场监管局, hall: "510104-ZWFW"}]\n'
    client.auth = admins["county"]
    r = client.post("/api/v1/registry/import", content=own.encode(), headers={"Content-Type": "text/yaml"})
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/registry/import", content=moved.encode(), headers={"Content-Type": "text/yaml"})
    assert r.status_code == 422
    assert r.json()["problems"] == [
        {
            "place": "departments[0].code",
            "line": 1,
            "message": "SCJGJ is stored outside your jurisdiction (510104)",
        }
    ]
    client.auth = admins["city"]  # a city adds a county below itself and a hall there
    below = (
        'regions: [{code: "510105", name: 青羊区, level: county, parent: "510100"}]\n'
        'halls: [{code: "510105-ZWFW", name: 青羊区政务服务中心, region: "510105"}]\n'
    )
    r = client.post("/api/v1/registry/import", content=below.encode(), headers={"Content-Type": "text/yaml"})
    assert r.status_code == 200, r.text


def test_hall_and_department_scopes_import_nothing(
    client: TestClient, registry: dict[str, int], db: Any
) -> None:
    make_user(db, "sa-hall", role=Role.SYSADMIN, scope="hall:510104-ZWFW", password=PASSWORD)
    client.auth = SignedIn("sa-hall", PASSWORD)
    r = client.post(
        "/api/v1/registry/import", content=b"departments: []\n", headers={"Content-Type": "text/yaml"}
    )
    assert r.status_code == 403 and "region or the deployment scope" in r.text


# -- replacing an entered year (SC-18) ----------------------------------------------------------------

APPROVALS = "/api/v1/approvals"
REPLACED = {"holidays": [*YEAR_2027["holidays"], "2027-01-04"], "workdays": [], "note": "更正"}


@pytest.fixture
def deciders(admins: dict[str, SignedIn], db: Any) -> dict[str, SignedIn]:
    for name, scope in (
        ("insp-prov", "region:510000"),
        ("insp-county", "region:510104"),
        ("insp-city", "region:510100"),
    ):
        make_user(db, name, role=Role.INSPECTOR, scope=scope, password=PASSWORD)
    return {**admins, **{n: SignedIn(n, PASSWORD) for n in ("insp-prov", "insp-county", "insp-city")}}


def test_replacing_a_year_waits_for_provincial_approval_and_shows_what_changes(
    client: TestClient, deciders: dict[str, SignedIn], clock: Any
) -> None:
    clock.set_shanghai(2026, 12, 21)
    assert (
        client.post(
            "/api/v1/cases/events", json=[ev("a1", "C1", "accepted", "2026-12-21T09:00:00+08:00")]
        ).status_code
        == 200
    )
    client.auth = deciders["deployment"]
    assert _calendar_year(client).status_code == 201
    assert client.get("/api/v1/cases/C1").json()["due_date"] == "2027-01-05"

    again = client.post("/api/v1/calendar/years", json={"year": 2027, **REPLACED})
    assert again.status_code == 409 and "calendar_replace" in again.text
    for who in ("county", "city"):
        client.auth = deciders[who]
        refused = client.post(
            APPROVALS,
            json={"kind": "calendar_replace", "target": "2027", "payload": REPLACED, "reason": "更正"},
        )
        assert refused.status_code == 403, refused.text

    client.auth = deciders["deployment"]
    asked = client.post(
        APPROVALS,
        json={"kind": "calendar_replace", "target": "2027", "payload": REPLACED, "reason": "国务院更正通知"},
    )
    assert asked.status_code == 201, asked.text
    body = asked.json()
    assert body["level"] == "province" and body["status"] == "pending" and body["can_decide"] is False
    assert body["payload"]["diff"] == {
        "working_days_added": [],
        "working_days_removed": ["2027-01-04", "2027-02-20"],
        "open_cases_moved": 1,
    }
    assert client.get("/api/v1/calendar/years/2027").json()["holidays"] == sorted(YEAR_2027["holidays"])
    request_id = body["id"]
    assert client.post(f"{APPROVALS}/{request_id}/approve", json={}).status_code == 403  # not one's own

    for who in ("insp-county", "insp-city"):  # a local bureau neither sees nor decides it
        client.auth = deciders[who]
        assert client.get(f"{APPROVALS}/{request_id}").status_code == 404
        assert client.post(f"{APPROVALS}/{request_id}/approve", json={}).status_code == 404
    clock.advance(hours=1)
    client.auth = deciders["insp-prov"]
    assert [a["id"] for a in client.get(APPROVALS, params={"inbox": "true"}).json()] == [request_id]
    signed = client.post(
        "/console/login", data={"username": "insp-prov", "password": PASSWORD}, follow_redirects=False
    )
    assert signed.status_code == 303
    page = client.get(f"/console/approvals/{request_id}").text  # the approver sees what changes
    assert "2027-01-04、2027-02-20" in page and "约 1 件" in page
    done = client.post(f"{APPROVALS}/{request_id}/approve", json={"note": "同意"})
    assert done.status_code == 200, done.text
    assert "2027-01-04" in client.get("/api/v1/calendar/years/2027").json()["holidays"]
    assert client.get("/api/v1/cases/C1").json()["due_date"] == "2027-01-06"


def test_the_cli_enters_a_year_but_does_not_replace_it(settings: Any, tmp_path: Any) -> None:
    file = tmp_path / "2027.yaml"
    file.write_text("year: 2027\nholidays: [2027-01-01]\n", encoding="utf-8")
    env = {"HALLWATCH_DATABASE_URL": settings.database_url}
    assert CliRunner().invoke(app, ["calendar", "import", str(file)], env=env).exit_code == 0
    again = CliRunner().invoke(app, ["calendar", "import", str(file)], env=env)
    assert again.exit_code == 2 and "calendar_replace" in again.stderr
