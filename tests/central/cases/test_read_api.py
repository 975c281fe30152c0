"""GET /api/v1/cases/{case_no} (with as_of, for audits) and the filtered list."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.central.cases.helpers import ev

URL = "/api/v1/cases/events"


def seed(client: TestClient) -> None:
    batch = [
        ev("a1", "C1", "received", "2026-09-25T09:00:00+08:00", window_code="W01", applicant_name="王五"),
        ev("a2", "C1", "accepted", "2026-09-25T09:30:00+08:00", staff_code="S001"),
        ev("a3", "C1", "suspended", "2026-09-29T10:00:00+08:00", reason="专家评审"),
        ev("a4", "C1", "resumed", "2026-10-09T10:00:00+08:00"),
        ev("b1", "C2", "accepted", "2026-11-02T09:00:00+08:00"),
        ev("b2", "C2", "completed", "2026-11-06T09:00:00+08:00"),
        ev("c1", "C3", "accepted", "2026-11-20T09:00:00+08:00", item_code="SCJGJ-XK-002"),
    ]
    assert client.post(URL, json=batch).status_code == 200


def test_case_detail_fields(client: TestClient, registry) -> None:
    seed(client)
    body = client.get("/api/v1/cases/C1", params={"as_of": "2026-10-12T10:00:00+08:00"}).json()
    assert body["status"] == "accepted"
    assert body["due_date"] == "2026-10-20"
    assert body["legal_due_date"] == "2026-11-03"
    assert body["remaining_working_days"] == 6
    assert body["light"] == "green"
    assert body["suspended_working_days"] == 3
    assert body["window_code"] == "W01" and body["staff_name"] == "张三"
    assert [e["type"] for e in body["events"]] == ["received", "accepted", "suspended", "resumed"]


def test_as_of_answers_the_past(client: TestClient, registry) -> None:
    seed(client)
    during = client.get("/api/v1/cases/C1", params={"as_of": "2026-10-08T12:00:00+08:00"}).json()
    assert during["status"] == "suspended"
    assert [e["type"] for e in during["events"]] == ["received", "accepted", "suspended"]
    before = client.get("/api/v1/cases/C1", params={"as_of": "2026-09-25T09:10:00+08:00"}).json()
    assert before["status"] == "received" and before["due_date"] is None
    r = client.get("/api/v1/cases/C1", params={"as_of": "2026-09-01T00:00:00+08:00"})
    assert r.status_code == 404 and "as of" in r.json()["detail"]


def test_unknown_case_and_bad_as_of(client: TestClient, registry) -> None:
    assert client.get("/api/v1/cases/NOPE").status_code == 404
    assert client.get("/api/v1/cases/C1", params={"as_of": "last tuesday"}).status_code == 422


def test_list_filters_and_paging(client: TestClient, registry, clock) -> None:
    seed(client)
    clock.set_shanghai(2026, 11, 27)
    everything = client.get("/api/v1/cases").json()
    assert everything["total"] == 3
    assert client.get("/api/v1/cases", params={"status": "completed"}).json()["items"][0]["case_no"] == "C2"
    red = client.get("/api/v1/cases", params={"light": "red"}).json()
    assert [c["case_no"] for c in red["items"]] == ["C1"]
    green = client.get("/api/v1/cases", params={"light": "green"}).json()
    assert [c["case_no"] for c in green["items"]] == ["C3"]
    completed = client.get("/api/v1/cases", params={"case_no": "C2"}).json()["items"][0]
    assert completed["finished_on_time"] is True and completed["light"] is None
    ranged = client.get(
        "/api/v1/cases", params={"accepted_from": "2026-11-01", "accepted_to": "2026-11-30"}
    ).json()
    assert {c["case_no"] for c in ranged["items"]} == {"C2", "C3"}
    assert client.get("/api/v1/cases", params={"hall": "510104-ZWFW"}).json()["total"] == 0
    assert client.get("/api/v1/cases", params={"department": "SCJGJ"}).json()["total"] == 3
    page2 = client.get("/api/v1/cases", params={"page": 2, "page_size": 2}).json()
    assert page2["total"] == 3 and len(page2["items"]) == 1
    summary = client.get("/api/v1/cases/lights/summary").json()
    assert (summary["green"], summary["yellow"], summary["red"]) == (1, 0, 1)


def test_list_rejects_bad_parameters(client: TestClient, registry) -> None:
    assert client.get("/api/v1/cases", params={"light": "purple"}).status_code == 422
    assert client.get("/api/v1/cases", params={"page": 0}).status_code == 422
    assert client.get("/api/v1/cases", params={"page_size": 100000}).status_code == 422
    r = client.get("/api/v1/cases", params={"accepted_from": "2026-11-30", "accepted_to": "2026-11-01"})
    assert r.status_code == 422 and "after" in r.json()["detail"]
