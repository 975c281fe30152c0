"""POST /api/v1/cases/events: idempotent, all-or-nothing, every event answered; bad input writes nothing."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.cases.models import Case, CaseEvent
from tests.central.cases.helpers import ev
from tests.conftest import ROOT_PASSWORD, login, make_user

URL = "/api/v1/cases/events"


def counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    return session.scalar(select(func.count(Case.id))) or 0, session.scalar(
        select(func.count(CaseEvent.id))
    ) or 0


def test_batch_is_stored_and_answered_per_event(client: TestClient, registry, session: Session) -> None:
    batch = [
        ev("a1", "C1", "received", "2026-11-02T09:00:00+08:00", window_code="W01", applicant_name="李四"),
        ev("a2", "C1", "accepted", "2026-11-02T09:30:00+08:00", staff_code="S001"),
        ev("b1", "C2", "accepted", "2026-11-03T09:00:00+08:00"),
    ]
    r = client.post(URL, json=batch)
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] is True and body["stored"] == 3
    assert [x["outcome"] for x in body["results"]] == ["stored"] * 3
    assert counts(session) == (2, 3)


def test_same_event_twice_is_stored_once(client: TestClient, registry, session: Session) -> None:
    event = ev("a1", "C1", "accepted", "2026-11-02T09:00:00+08:00")
    assert client.post(URL, json=[event]).status_code == 200
    # the same instant written in UTC is the same content
    same = dict(event, at="2026-11-02T01:00:00Z")
    r = client.post(URL, json=[same])
    assert r.status_code == 200
    assert r.json()["results"][0]["outcome"] == "duplicate"
    assert counts(session) == (1, 1)


def test_same_event_id_other_content_is_409(client: TestClient, registry, session: Session) -> None:
    assert client.post(URL, json=[ev("a1", "C1", "accepted", "2026-11-02T09:00:00+08:00")]).status_code == 200
    r = client.post(URL, json=[ev("a1", "C1", "accepted", "2026-11-02T11:00:00+08:00")])
    assert r.status_code == 409
    assert "different content" in r.json()["results"][0]["detail"]
    assert counts(session) == (1, 1)


def test_batch_with_one_impossible_transition_writes_nothing(
    client: TestClient, registry, session: Session
) -> None:
    batch = [
        ev("b1", "C2", "accepted", "2026-11-03T09:00:00+08:00"),
        ev("a1", "C1", "accepted", "2026-11-02T09:00:00+08:00"),
        ev("a2", "C1", "completed", "2026-11-04T09:00:00+08:00"),
        ev("a3", "C1", "undertaken", "2026-11-05T09:00:00+08:00"),
    ]
    r = client.post(URL, json=batch)
    assert r.status_code == 409
    outcomes = [x["outcome"] for x in r.json()["results"]]
    assert outcomes == ["not_applied", "not_applied", "not_applied", "conflict"]
    assert "only revoked may follow" in r.json()["results"][3]["detail"]
    assert counts(session) == (0, 0)


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        (ev("x", "C9", "accepted", "2026-11-02T09:00:00+08:00", item_code="NOPE"), "unknown item_code"),
        (ev("x", "C9", "accepted", "2026-11-02T09:00:00+08:00", hall_code="NOPE"), "unknown hall_code"),
        (ev("x", "C9", "accepted", "2026-11-02T09:00:00+08:00", window_code="W99"), "has no window"),
        (ev("x", "C9", "accepted", "2026-11-02T09:00:00+08:00", staff_code="S999"), "unknown staff_code"),
        (ev("x", "C9", "accepted", "2027-01-05T09:00:00+08:00"), "calendar for 2027 is missing"),
        (ev("x", "C9", "accepted", "2026-12-30T09:00:00+08:00"), "in the future"),
        (ev("x", "C9", "teleported", "2026-11-02T09:00:00+08:00"), "type"),
        (ev("x", "C9", "accepted", "yesterday"), "at"),
        (ev("x", "C9", "extended", "2026-11-02T09:00:00+08:00"), "needs days"),
        (ev("x", "C9", "extended", "2026-11-02T09:00:00+08:00", days=-3, reason="r"), "days"),
        (ev("x", "C9", "accepted", "2026-11-02T09:00:00+08:00", days=3), "only allowed on extended"),
        (ev("x", "C9", "accepted", "2026-11-02T09:00:00+08:00", colour="red"), "colour"),
        (ev("x" * 101, "C9", "accepted", "2026-11-02T09:00:00+08:00"), "event_id"),
        (ev("x", "C9'; DROP TABLE cases;--", "accepted", "2026-11-02T09:00:00+08:00"), "case_no"),
        ("not an object", "event"),
    ],
)
def test_bad_events_get_a_precise_422_and_write_nothing(
    client: TestClient, registry, session: Session, event, needle
) -> None:
    good = ev("ok", "C1", "accepted", "2026-11-02T09:00:00+08:00")
    r = client.post(URL, json=[good, event])
    assert r.status_code == 422, r.text
    results = r.json()["results"]
    assert results[0]["outcome"] == "not_applied"
    assert results[1]["outcome"] == "invalid"
    assert needle in results[1]["detail"]
    assert counts(session) == (0, 0)


def test_malformed_json_empty_and_oversized_batches(client: TestClient, registry, session: Session) -> None:
    r = client.post(URL, content=b"[{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert client.post(URL, json={"event_id": "not a list"}).status_code == 422
    assert client.post(URL, json=[]).status_code == 422
    big = [ev(f"e{i}", f"C{i}", "accepted", "2026-11-02T09:00:00+08:00") for i in range(5001)]
    r = client.post(URL, content=json.dumps(big), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "at most 5000" in r.json()["detail"]
    assert counts(session) == (0, 0)


def test_existing_case_with_other_item_is_a_conflict(client: TestClient, registry, session: Session) -> None:
    assert client.post(URL, json=[ev("a1", "C1", "accepted", "2026-11-02T09:00:00+08:00")]).status_code == 200
    other = ev("a2", "C1", "undertaken", "2026-11-03T09:00:00+08:00", item_code="SCJGJ-XK-002")
    r = client.post(URL, json=[other])
    assert r.status_code == 409
    assert "another item or hall" in r.json()["results"][0]["detail"]
    assert counts(session) == (1, 1)


def test_late_event_is_placed_in_time_order(client: TestClient, registry) -> None:
    # a vertical system sends acceptance, then the earlier receipt arrives late: it slots in before
    assert client.post(URL, json=[ev("c1", "C3", "accepted", "2026-11-02T09:00:00+08:00")]).status_code == 200
    assert client.post(URL, json=[ev("c0", "C3", "received", "2026-11-02T08:00:00+08:00")]).status_code == 200
    r = client.post(
        URL,
        json=[
            ev("c3", "C3", "completed", "2026-11-05T09:00:00+08:00"),
            ev("c2", "C3", "undertaken", "2026-11-04T09:00:00+08:00"),
        ],
    )
    assert r.status_code == 200
    events = client.get("/api/v1/cases/C3").json()["events"]
    assert [e["type"] for e in events] == ["received", "accepted", "undertaken", "completed"]
    # a late suspension before the stored completion would make the completion impossible
    r = client.post(URL, json=[ev("c9", "C3", "suspended", "2026-11-04T12:00:00+08:00", reason="专家评审")])
    assert r.status_code == 409
    assert "would make stored event c3 impossible" in r.json()["results"][0]["detail"]


def test_corrections_are_new_events_and_history_is_kept(client: TestClient, registry) -> None:
    client.post(
        URL,
        json=[
            ev("a1", "C1", "accepted", "2026-11-02T09:00:00+08:00"),
            ev("a2", "C1", "completed", "2026-11-05T09:00:00+08:00"),
        ],
    )
    r = client.post(
        URL, json=[ev("a3", "C1", "revoked", "2026-11-06T09:00:00+08:00", reason="录入错误，撤销")]
    )
    assert r.status_code == 200
    body = client.get("/api/v1/cases/C1").json()
    assert body["status"] == "revoked"
    assert [e["type"] for e in body["events"]] == ["accepted", "completed", "revoked"]


def test_huge_body_is_refused_before_parsing(db, clock, registry) -> None:
    from central.app import create_app
    from central.core.config import Settings

    settings = Settings(database_url=db.url.render_as_string(hide_password=False), max_body_bytes=4096)
    make_user(db, "root", password=ROOT_PASSWORD, now=clock())
    with TestClient(create_app(settings, engine=db, clock=clock)) as small:
        huge = b"[" + b" " * 10_000 + b"]"
        json_type = {"content-type": "application/json"}
        assert small.post(URL, content=huge, headers=json_type).status_code == 401  # nobody: not even read
        headers = {**json_type, **login(small, "root", ROOT_PASSWORD)}
        r = small.post(URL, content=huge, headers=headers)
        assert r.status_code == 413 and "larger than 4096" in r.json()["detail"]

        def chunks():  # no Content-Length: the streamed bytes are counted
            for _ in range(10):
                yield b" " * 1000

        r = small.post(URL, content=chunks(), headers=headers)
        assert r.status_code == 413
