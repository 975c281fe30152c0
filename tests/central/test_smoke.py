from fastapi.testclient import TestClient


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_push_and_read(client: TestClient, registry) -> None:
    events = [
        {
            "event_id": "e1",
            "case_no": "C1",
            "type": "accepted",
            "at": "2026-09-25T09:00:00+08:00",
            "item_code": "SCJGJ-XK-001",
            "hall_code": "510000-ZWFW",
            "window_code": "W01",
            "staff_code": "S001",
        },
    ]
    r = client.post("/api/v1/cases/events", json=events)
    assert r.status_code == 200, r.text
    r = client.get("/api/v1/cases/C1", params={"as_of": "2026-10-09T10:00:00+08:00"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["due_date"] == "2026-10-15"
