"""Counts and lists "as of" a moment hold only the cases that existed then (issue #13, item 10): a case
received after `as_of` is neither counted in the lights summary nor listed, on every as-of query."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.central.cases.helpers import ev

RECEIVED = {"HW-E1": "2026-11-02T09:00:00+08:00", "HW-E2": "2026-11-16T09:00:00+08:00"}


@pytest.fixture
def cases(client: TestClient, registry: dict[str, int]) -> None:
    events = [ev(f"{no}-acc", no, "accepted", at) for no, at in RECEIVED.items()]
    response = client.post("/api/v1/cases/events", json=events)
    assert response.status_code == 200, response.text


def _counted(summary: dict[str, Any]) -> int:
    return int(summary["green"] + summary["yellow"] + summary["red"] + summary["calendar_missing"])


@pytest.mark.parametrize(
    ("as_of", "existing"),
    [
        ("2000-01-01T00:00:00", set()),
        ("2026-11-02T08:59:59+08:00", set()),
        ("2026-11-02T09:00:00+08:00", {"HW-E1"}),  # received at as_of: it existed
        ("2026-11-10T12:00:00", {"HW-E1"}),
        ("2026-11-16T01:00:00Z", {"HW-E1", "HW-E2"}),
        (None, {"HW-E1", "HW-E2"}),
    ],
)
def test_as_of_queries_hold_only_cases_received_by_then(
    client: TestClient, cases: None, as_of: str | None, existing: set[str]
) -> None:
    params = {"as_of": as_of} if as_of else {}
    summary = client.get("/api/v1/cases/lights/summary", params=params)
    assert summary.status_code == 200, summary.text
    assert _counted(summary.json()) == len(existing)
    page = client.get("/api/v1/cases", params=params)
    assert page.status_code == 200, page.text
    assert page.json()["total"] == len(existing)
    assert {c["case_no"] for c in page.json()["items"]} == existing
    for case_no in RECEIVED:  # one case as of the moment: a 404 before it was received
        status = client.get(f"/api/v1/cases/{case_no}", params=params).status_code
        assert status == (200 if case_no in existing else 404)
