"""The public feed's snapshot, the kiosk's lookup and the query password, through the real app
(both databases): what a hall screen and a citizen see, and what they never see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.core.config import Settings
from central.public.jobs import refresh_public_feeds
from central.public.models import PublicFeedEvent
from central.public.publish import publish_stored_cases
from tests.central.cases.helpers import ev
from tests.central.public.helpers import FEED, received
from tests.conftest import FakeClock

LOOKUP = "/api/v1/public/cases/lookup"


def push(client: TestClient, *events: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/cases/events", json=list(events))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_new_case_gets_a_query_password_once_and_the_kiosk_shows_its_timeline(
    client: TestClient, anon: TestClient, registry: dict[str, int]
) -> None:
    answer = push(
        client,
        received("e1", "C-001", "2026-11-27T09:30:00+08:00"),
        ev("e2", "C-001", "accepted", "2026-11-27T09:40:00+08:00", window_code="W01", staff_code="S001"),
    )
    first, second = answer["results"]
    password = first["query_password"]
    assert password.isdigit() and len(password) == 6
    assert second["query_password"] is None
    # A later event of the same case gives no new password.
    later = push(client, ev("e3", "C-001", "undertaken", "2026-11-27T09:50:00+08:00"))
    assert later["results"][0]["query_password"] is None

    found = anon.post(LOOKUP, json={"case_no": "C-001", "password": password})
    assert found.status_code == 200, found.text
    timeline = found.json()
    assert timeline["case"]["applicant"] == "张*明"
    assert timeline["case"]["stage"] == "承办中"
    assert timeline["case"]["due_date"] is not None
    assert [step["label"] for step in timeline["steps"]] == ["收件", "受理", "承办"]
    assert timeline["steps"][1]["staff"] == "张三(S001)"
    assert "张三明" not in found.text


def test_a_wrong_password_and_an_unknown_case_get_the_same_answer_and_are_throttled(
    client: TestClient, anon: TestClient, registry: dict[str, int]
) -> None:
    password = push(client, received("e1", "C-002", "2026-11-27T09:30:00+08:00"))["results"][0][
        "query_password"
    ]
    wrong = f"{(int(password) + 1) % 1_000_000:06d}"
    bad = anon.post(LOOKUP, json={"case_no": "C-002", "password": wrong})
    unknown = anon.post(LOOKUP, json={"case_no": "C-999", "password": wrong})
    assert bad.status_code == unknown.status_code == 404
    assert bad.json() == unknown.json() == {"detail": "办件编号或查询密码不正确"}
    for _ in range(4):
        anon.post(LOOKUP, json={"case_no": "C-002", "password": wrong})
    locked = anon.post(LOOKUP, json={"case_no": "C-002", "password": password})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "分钟后再试" in locked.json()["detail"]
    # Guessing at an unknown number is locked the same way: nothing tells them apart.
    for _ in range(4):
        anon.post(LOOKUP, json={"case_no": "C-999", "password": wrong})
    assert anon.post(LOOKUP, json={"case_no": "C-999", "password": wrong}).status_code == 429


def test_lookup_refuses_malformed_input_with_a_422(anon: TestClient, registry: dict[str, int]) -> None:
    bodies: list[Any] = [
        {"case_no": "C-001"},
        {"case_no": "C-001", "password": "12345"},
        {"case_no": "C-001", "password": "abcdef"},
        {"case_no": "", "password": "123456"},
        {"case_no": "C 001", "password": "123456"},
        {"case_no": "C-001", "password": "123456", "extra": 1},
        [],
    ]
    for body in bodies:
        assert anon.post(LOOKUP, json=body).status_code == 422, body


def test_a_reissued_password_replaces_the_old_one(
    client: TestClient, anon: TestClient, registry: dict[str, int]
) -> None:
    old = push(client, received("e1", "C-003", "2026-11-27T09:30:00+08:00"))["results"][0]["query_password"]
    reissued = client.post("/api/v1/cases/C-003/query-password")
    assert reissued.status_code == 200, reissued.text
    new = reissued.json()["query_password"]
    assert anon.post(LOOKUP, json={"case_no": "C-003", "password": new}).status_code == 200
    if new != old:
        assert anon.post(LOOKUP, json={"case_no": "C-003", "password": old}).status_code == 404
    assert client.post("/api/v1/cases/C-404/query-password").status_code == 404
    assert anon.post("/api/v1/cases/C-003/query-password").status_code == 401


def test_the_snapshot_shows_open_cases_masked_with_the_number_of_the_last_change(
    client: TestClient, anon: TestClient, registry: dict[str, int]
) -> None:
    push(
        client,
        received("e1", "C-010", "2026-11-27T09:30:00+08:00", applicant="欧阳小明"),
        received("e2", "C-011", "2026-11-27T09:31:00+08:00", applicant="成都天府软件有限公司"),
        received("e3", "C-012", "2026-11-27T09:32:00+08:00", applicant="510104199001011234"),
    )
    response = anon.get(f"{FEED}/progress")
    assert response.status_code == 200
    snapshot = response.json()
    assert snapshot["hall"] == {"code": "510000-ZWFW", "name": "四川省政务服务中心"}
    assert snapshot["reason"] == "start"
    cases = {case["case_no"]: case for case in snapshot["cases"]}
    assert set(cases) == {"C-010", "C-011", "C-012"}
    assert cases["C-010"]["applicant"] == "欧**明"
    assert "天府软件" not in response.text and "510104199001011234" not in response.text
    assert cases["C-010"]["window"] == "1号窗口" and cases["C-010"]["staff"] == "张三(S001)"
    assert (
        cases["C-010"]["stage"] == "已收件" and cases["C-010"]["light"] is None
    )  # no due date before acceptance
    assert snapshot["summary"]["open"] == 3
    # Three cases and the day's figures: four numbered changes.
    assert snapshot["last_event_id"] == 4


def test_an_unknown_hall_is_a_404_and_a_flood_is_a_429(
    db: Engine, settings: Settings, clock: FakeClock, registry: dict[str, int]
) -> None:
    from central.app import create_app

    tight = settings.model_copy(update={"public_requests_per_minute": 3})
    with TestClient(create_app(tight, engine=db, clock=clock)) as anon:
        assert anon.get("/api/v1/public/halls/NOPE/progress").status_code == 404
        codes = [anon.get(f"{FEED}/info").status_code for _ in range(4)]
        assert codes[-1] == 429, codes


def test_catalog_and_info_tell_the_items_and_the_rules(anon: TestClient, registry: dict[str, int]) -> None:
    catalog = anon.get(f"{FEED}/catalog").json()
    item = next(i for i in catalog["items"] if i["code"] == "SCJGJ-XK-001")
    assert item["name"] == "食品经营许可" and item["fee"] == "0.00"
    assert item["legal_limit_days"] == 20 and item["promised_limit_days"] == 10
    assert item["basis"] == "《食品安全法》第三十五条"
    info = anon.get(f"{FEED}/info").json()
    assert [s["title"] for s in info["sections"]][-1] == "监督投诉"


def test_the_feed_pass_drops_yesterdays_closed_cases_and_turns_lights(
    client: TestClient,
    anon: TestClient,
    session: Session,
    clock: FakeClock,
    settings: Settings,
    registry: dict[str, int],
) -> None:
    push(
        client,
        received("e1", "C-020", "2026-11-27T09:30:00+08:00"),
        ev("e2", "C-020", "accepted", "2026-11-27T09:31:00+08:00"),
        received("e3", "C-021", "2026-11-27T09:32:00+08:00"),
        ev("e4", "C-021", "accepted", "2026-11-27T09:33:00+08:00"),
        ev("e5", "C-021", "completed", "2026-11-27T09:50:00+08:00"),
    )
    today = {c["case_no"]: c for c in anon.get(f"{FEED}/progress").json()["cases"]}
    assert today["C-021"]["stage"] == "已办结" and today["C-021"]["light"] is None
    # Ten working days on, the case accepted with a 10-day promise is due today: yellow, then red.
    clock.advance(days=14)
    refresh_public_feeds(session, now=clock(), default_key=settings.rule_profile, keep=timedelta(days=30))
    later = {c["case_no"]: c for c in anon.get(f"{FEED}/progress").json()["cases"]}
    assert set(later) == {"C-020"}
    assert later["C-020"]["light"] in {"yellow", "red"}
    again = refresh_public_feeds(
        session, now=clock(), default_key=settings.rule_profile, keep=timedelta(days=30)
    )
    assert again == 0  # nothing changed since: nothing numbered
    # Pruned after `keep`: the stored changes go, the screens' state stays.
    clock.advance(days=40)
    refresh_public_feeds(session, now=clock(), default_key=settings.rule_profile, keep=timedelta(days=30))
    kept = session.scalars(select(PublicFeedEvent.at)).all()
    assert kept and all(at >= clock() - timedelta(days=30) for at in kept)
    assert {c["case_no"] for c in anon.get(f"{FEED}/progress").json()["cases"]} == {"C-020"}


def test_notices_reach_the_screens_without_phone_numbers_and_leave_when_ended(
    client: TestClient, anon: TestClient, registry: dict[str, int]
) -> None:
    posted = client.post(
        "/api/v1/halls/510000-ZWFW/notices", json={"text": "本周六照常办公，咨询 13812345678"}
    )
    assert posted.status_code == 201, posted.text
    assert "13812345678" not in posted.text and "[已隐去]" in posted.json()["text"]
    snapshot = anon.get(f"{FEED}/progress").json()
    assert [n["text"] for n in snapshot["notices"]] == [posted.json()["text"]]
    assert client.delete(f"/api/v1/halls/510000-ZWFW/notices/{posted.json()['id']}").status_code == 204
    assert anon.get(f"{FEED}/progress").json()["notices"] == []
    assert client.delete(f"/api/v1/halls/510000-ZWFW/notices/{posted.json()['id']}").status_code == 404
    assert client.post("/api/v1/halls/NOPE/notices", json={"text": "x"}).status_code == 404
    assert client.post("/api/v1/halls/510000-ZWFW/notices", json={"text": ""}).status_code == 422
    assert anon.post("/api/v1/halls/510000-ZWFW/notices", json={"text": "x"}).status_code == 401


def test_a_case_whose_publication_was_lost_reaches_the_screens_at_the_next_pass(
    client: TestClient,
    anon: TestClient,
    session: Session,
    clock: FakeClock,
    settings: Settings,
    registry: dict[str, int],
) -> None:
    """The screens are told of stored events in a transaction after the events' own commit; when that
    one fails (the database restarting between the two: the soak saw it), the next periodic pass,
    not only the full one up to 10 minutes later, brings the case to the screens."""
    refresh_public_feeds(session, now=clock(), default_key=settings.rule_profile, keep=timedelta(days=30))
    app = client.app
    assert isinstance(app, FastAPI)
    kept = app.state.case_event_listeners
    app.state.case_event_listeners = tuple(f for f in kept if f is not publish_stored_cases)  # lost
    push(client, received("e1", "C-031", "2026-11-27T09:30:00+08:00"))
    app.state.case_event_listeners = kept
    shown = {c["case_no"] for c in anon.get(f"{FEED}/progress").json()["cases"]}
    assert "C-031" not in shown, "the publication was lost"
    clock.advance(minutes=1)  # the next pass: not a full one (the last was a minute ago)
    refresh_public_feeds(session, now=clock(), default_key=settings.rule_profile, keep=timedelta(days=30))
    shown = {c["case_no"] for c in anon.get(f"{FEED}/progress").json()["cases"]}
    assert "C-031" in shown


def test_a_batch_sent_again_publishes_what_its_first_attempt_did_not(
    client: TestClient, anon: TestClient, registry: dict[str, int]
) -> None:
    """A case system that got no answer sends the batch again: its events are duplicates now, but the
    first attempt may have stopped between their commit and the screens' publication (central killed
    there: the short soak saw it), so the repeat publishes them."""
    app = client.app
    assert isinstance(app, FastAPI)
    kept = app.state.case_event_listeners
    app.state.case_event_listeners = tuple(f for f in kept if f is not publish_stored_cases)  # lost
    batch = received("e1", "C-032", "2026-11-27T09:30:00+08:00")
    push(client, batch)
    app.state.case_event_listeners = kept
    assert "C-032" not in {c["case_no"] for c in anon.get(f"{FEED}/progress").json()["cases"]}
    again = push(client, batch)
    assert again["results"][0]["outcome"] == "duplicate"
    assert "C-032" in {c["case_no"] for c in anon.get(f"{FEED}/progress").json()["cases"]}
