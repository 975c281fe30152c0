"""Dates at the extremes of their format (issue #13, item 4): every route that takes a date or a moment,
query parameter or body field, API or console page, answers a 4xx that names the system's range
(central.core.types), never a 500. The API's routes come from the OpenAPI spec, the pages' date
fields from the templates' date inputs: a new route or field is walked without touching this file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.app import create_app
from central.core.config import Settings
from central.core.types import EARLIEST_DAY, LATEST_DAY
from central.ratings.models import FollowUp
from tests.central.cases.helpers import ev
from tests.central.devices.helpers import edge
from tests.central.ratings.followup_world import PASSWORD, add_case, add_rating, build_world, sh
from tests.conftest import FakeClock, with_form_token

__all__ = ["edge"]

DAYS = ("0001-01-01", "9999-12-31", (EARLIEST_DAY - timedelta(days=1)).isoformat())
MOMENTS = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1999-12-31T23:59:59+08:00")
NAIVE_MOMENTS = ("0001-01-01T00:00:00", "9999-12-31T23:59:59")  # aware-only fields refuse them as naive
PAGE_DAYS = ("0001-01-01", "9999-12-31")
PAGE_MOMENTS = ("0001-01-01T00:00", "9999-12-31T23:59", "9999-12-31T23:59:59-12:00")
PATH_VALUES = {"case_no": "HW-X1", "hall_code": "510000-ZWFW", "followup_id": "1"}
TEMPLATES = Path(__file__).resolve().parents[2] / "central"


def names_the_range(text: str) -> bool:
    return str(EARLIEST_DAY) in text and str(LATEST_DAY) in text


# -- the API, from its OpenAPI spec --------------------------------------------------------------------


@dataclass(frozen=True)
class DateField:
    method: str
    path: str
    where: str  # query | header | body
    location: tuple[str, ...]  # the parameter's name, or the path into the body ("[]": an item)
    fmt: str  # date | date-time

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where}:{'.'.join(self.location)} ({self.fmt})"


class Spec:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.components: dict[str, Any] = spec["components"]["schemas"]

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def date_leaves(
        self, schema: dict[str, Any], seen: frozenset[str] = frozenset()
    ) -> Iterator[tuple[tuple[str, ...], str]]:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                yield from self.date_leaves(self.components[name], seen | {name})
            return
        if schema.get("format") in ("date", "date-time"):
            yield (), schema["format"]
        for branch in (*schema.get("anyOf", ()), *schema.get("oneOf", ()), *schema.get("allOf", ())):
            yield from self.date_leaves(branch, seen)
        for name, sub in schema.get("properties", {}).items():
            yield from (((name, *rest), fmt) for rest, fmt in self.date_leaves(sub, seen))
        if "items" in schema:
            yield from ((("[]", *rest), fmt) for rest, fmt in self.date_leaves(schema["items"], seen))

    def fields(self) -> list[DateField]:
        found: set[DateField] = set()
        for path, operations in self.spec["paths"].items():
            for method, op in operations.items():
                for param in op.get("parameters", []):
                    for _rest, fmt in self.date_leaves(param["schema"]):
                        found.add(DateField(method.upper(), path, param["in"], (param["name"],), fmt))
                body = op.get("requestBody", {}).get("content", {}).get("application/json")
                if body:
                    for location, fmt in self.date_leaves(body["schema"]):
                        found.add(DateField(method.upper(), path, "body", location, fmt))
        return sorted(found, key=str)

    def bodies(self, schema: dict[str, Any], location: tuple[str, ...], value: str) -> Iterator[Any]:
        """Bodies with `value` at `location` and the rest minimal: one per union branch on the way."""
        schema = self.resolve(schema)
        if not location:
            yield value
            return
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            for branch in branches:
                yield from self.bodies(branch, location, value)
            return
        head, rest = location[0], location[1:]
        if head == "[]":
            if "items" in schema:
                yield from ([inner] for inner in self.bodies(schema["items"], rest, value))
            return
        properties = schema.get("properties", {})
        if head in properties:
            for inner in self.bodies(properties[head], rest, value):
                body = {name: self.minimal(properties[name]) for name in schema.get("required", [])}
                body[head] = inner
                yield body

    def minimal(self, schema: dict[str, Any]) -> Any:
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "anyOf" in schema or "oneOf" in schema:
            return self.minimal((schema.get("anyOf") or schema["oneOf"])[0])
        kind = schema.get("type")
        if kind == "object":
            props = schema.get("properties", {})
            return {name: self.minimal(props[name]) for name in schema.get("required", [])}
        simple = {
            "string": "x",
            "integer": schema.get("minimum", 1),
            "number": 1,
            "boolean": True,
            "array": [],
        }
        return simple.get(kind)


def _extremes(field: DateField) -> tuple[str, ...]:
    return DAYS if field.fmt == "date" else MOMENTS + NAIVE_MOMENTS


def _call(client: TestClient, field: DateField, value: str, headers: dict[str, str]) -> list[Any]:
    url = field.path.format(**PATH_VALUES)
    if field.where == "query":
        return [client.request(field.method, url, params={field.location[0]: value}, headers=headers)]
    if field.where == "header":
        return [client.request(field.method, url, headers={**headers, field.location[0]: value})]
    spec = Spec(client.app.openapi())  # type: ignore[attr-defined]
    op = spec.spec["paths"][field.path][field.method.lower()]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    bodies = list(spec.bodies(schema, field.location, value))
    assert bodies, f"no body reaches {field}"
    return [client.request(field.method, url, json=body, headers=headers) for body in bodies]


def test_every_api_date_answers_4xx_naming_the_range(
    client: TestClient, edge: dict[str, dict[str, str]]
) -> None:
    fields = Spec(client.app.openapi()).fields()  # type: ignore[attr-defined]
    assert len(fields) >= 30  # cases, calendar, ledger, ratings, video, device observations
    problems = []
    for field in fields:
        headers = edge["EDGE-P"] if field.path.startswith("/api/v1/device/") else {}
        for value in _extremes(field):
            for response in _call(client, field, value, headers):
                naive_on_aware = value in NAIVE_MOMENTS and "timezone" in response.text
                if not (
                    400 <= response.status_code < 500 and (names_the_range(response.text) or naive_on_aware)
                ):
                    problems.append(f"{field} = {value}: {response.status_code} {response.text[:200]}")
    assert problems == []


# Bodies the spec shows only as `list[Any]` or `dict[str, Any]`: they are validated in the handler
# (every event of a batch answered on its own), so they are walked here by name.
def test_event_push_and_event_corrections_answer_4xx_naming_the_range(
    client: TestClient, registry: dict[str, int]
) -> None:
    paths = set(client.app.openapi()["paths"])  # type: ignore[attr-defined]
    assert {"/api/v1/cases/events", "/api/v1/approvals"} <= paths
    good = ev("HW-D1-r", "HW-D1", "received", "2026-11-02T09:00:00+08:00")
    assert client.post("/api/v1/cases/events", json=[good]).status_code == 200
    for value in MOMENTS + NAIVE_MOMENTS:
        response = client.post("/api/v1/cases/events", json=[ev("HW-D2-r", "HW-D2", "received", value)])
        assert response.status_code == 422 and names_the_range(response.text), (value, response.text)
        replacement = ev("HW-D1-r2", "HW-D1", "received", value)
        response = client.post(
            "/api/v1/approvals",
            json={
                "kind": "case_event_correct",
                "target": "HW-D1-r",
                "payload": {"replacement": replacement},
                "reason": "x",
            },
        )
        assert response.status_code == 422 and names_the_range(response.text), (value, response.text)


# -- the console pages, from the templates' date inputs --------------------------------------------------

INPUT = re.compile(r'<input\b[^>]*\btype="(date|datetime-local)"[^>]*>')
NAME = re.compile(r'\bname="([^"]+)"')


def template_date_inputs() -> set[tuple[str, str, str]]:
    """(template, input name, date | datetime-local) of every date input of every console template."""
    found = set()
    for template in TEMPLATES.rglob("templates/*.html"):
        for match in INPUT.finditer(template.read_text(encoding="utf-8")):
            name = NAME.search(match.group(0))
            assert name, f"{template.name}: a date input without a name"
            found.add((template.name, name.group(1), match.group(1)))
    return found


# Where each template's date input is sent: (method, url); {followup} and {event} filled by the test.
PAGE_ROUTES: dict[tuple[str, str], tuple[str, str]] = {
    ("cases_list.html", "accepted_from"): ("GET", "/console/cases"),
    ("cases_list.html", "accepted_to"): ("GET", "/console/cases"),
    ("case_detail.html", "as_of"): ("GET", "/console/cases/HW-P1"),
    ("ledger.html", "issued_from"): ("GET", "/console/ledger"),
    ("ledger.html", "issued_to"): ("GET", "/console/ledger"),
    ("ratings.html", "date_from"): ("GET", "/console/ratings"),
    ("ratings.html", "date_to"): ("GET", "/console/ratings"),
    ("video_hall.html", "day"): ("GET", "/console/video/halls/510000-ZWFW"),
    ("patrols.html", "date"): ("GET", "/console/patrols"),
    ("scores.html", "day"): ("GET", "/console/scores"),
    ("dualtrack_list.html", "day"): ("GET", "/console/dualtrack"),
    ("approval_new.html", "new_at"): ("POST", "/console/approvals/new"),
    ("followup_detail.html", "called_at"): ("POST", "/console/ratings/followups/{followup}/callback"),
}
# The other fields each form needs to get as far as the date.
FORM_FIELDS: dict[str, dict[str, str]] = {
    "/console/approvals/new": {
        "kind": "case_event_correct",
        "event_id": "HW-P1-acc",
        "reason": "时间有误",
        "new_event_id": "HW-P1-acc2",
        "new_type": "accepted",
    },
    "/console/ratings/followups/{followup}/callback": {"result": "已回访"},
}


@pytest.fixture
def console(
    client: TestClient,
    db: Engine,
    session: Session,
    settings: Settings,
    clock: FakeClock,
    registry: dict[str, int],
) -> Iterator[tuple[TestClient, int]]:
    """Signed in as the provincial department's clerk; a case HW-P1 and a 差评 with its follow-up."""
    world = build_world(client, db, session, registry)
    add_case(client, "HW-P1")
    add_rating(session, world, level=1, at=sh(2026, 11, 3, 9), case_no="HW-P1")
    followup = session.query(FollowUp).one()
    with TestClient(create_app(settings, engine=db, clock=clock)) as browser:
        signed = browser.post(
            "/console/login", data={"username": "clerk", "password": PASSWORD}, follow_redirects=False
        )
        assert signed.status_code == 303, signed.text
        yield with_form_token(browser), followup.id  # the forms' token (central/access/csrf.py)


def test_every_page_date_input_is_walked() -> None:
    inputs = template_date_inputs()
    assert {(template, name) for template, name, _kind in inputs} == set(PAGE_ROUTES)


def test_every_page_date_answers_a_chinese_4xx_naming_the_range(console: tuple[TestClient, int]) -> None:
    browser, followup = console
    problems = []
    for template, name, kind in sorted(template_date_inputs()):
        method, url = PAGE_ROUTES[(template, name)]
        url = url.format(followup=followup)
        for value in PAGE_DAYS if kind == "date" else PAGE_MOMENTS:
            if method == "GET":
                response = browser.get(url, params={name: value})
            else:
                fields = {**FORM_FIELDS[PAGE_ROUTES[(template, name)][1]], name: value}
                response = browser.post(url, data=fields, follow_redirects=False)
            if not (
                400 <= response.status_code < 500
                and names_the_range(response.text)
                and "日期应在" in response.text
            ):
                problems.append(
                    f"{method} {url} {name}={value}: {response.status_code} {response.text[-300:]}"
                )
    assert problems == []
