"""Ratings bound to cases end to end through the real API (一次一评, 一事一评): a case event at a window
opens a prompt and a command, the edge agent long-polls it, presses come back as observations and
are bound, corrected, left unbound or weighted down as bursts; 差评 run the follow-up hooks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.cases.models import Case
from central.devices.models import DeviceCommand
from central.ratings import ingest
from central.ratings.followups import open_followups
from central.ratings.models import FollowUp, KeypadPress, Rating, RatingPrompt, RatingRevision
from central.registry.models import Department, Device, ServiceWindow, Staff
from tests.central.devices.helpers import COMMANDS, edge, post, press, seconds, served
from tests.conftest import FakeClock, login, make_user

__all__ = ["edge"]
EVENTS = "/api/v1/cases/events"
PROMPTS = "/api/v1/ratings/prompts"


def serve_now(client: TestClient, clock: FakeClock, case_no: str = "C1") -> None:
    r = client.post(EVENTS, json=[served(f"{case_no}-e1", case_no, clock())])
    assert r.status_code == 200, r.text


def ratings(session: Session) -> list[Rating]:
    session.expire_all()
    return list(session.scalars(select(Rating).order_by(Rating.rated_at, Rating.id)))


def outcomes(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(KeypadPress.outcome).order_by(KeypadPress.pressed_at)))


@pytest.fixture
def bad_ratings(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Records every 差评 the binding opens a follow-up for (and still opens it)."""
    calls: list[dict[str, Any]] = []

    def recording(
        session: Session, *, ratings: Sequence[Rating], profile: Any, calendar: Any, now: datetime
    ) -> object:
        for rating in ratings:
            calls.append(
                {"rating_id": rating.id, "level": rating.level, "case_id": rating.case_id, "now": now}
            )
        return open_followups(session, ratings=ratings, profile=profile, calendar=calendar, now=now)

    monkeypatch.setattr(ingest, "open_followups", recording)
    yield calls


def test_served_case_is_prompted_and_the_press_binds_to_it(
    client: TestClient, anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    serve_now(client, clock)
    prompt = session.scalar(select(RatingPrompt))
    assert prompt is not None and prompt.source == "case_event"
    answer = anon.get(COMMANDS, params={"after": 0, "wait": 10}, headers=edge["EDGE-P"]).json()
    [command] = answer["commands"]
    assert (command["case_no"], command["window"], command["staff_no"]) == ("C1", "W01", "S001")

    body = post(anon, edge["EDGE-P"], press(seconds(clock, 5), 4))
    assert body["results"][0] == {"id": "KP-W01:1:1000", "outcome": "stored", "detail": "bound"}
    [rating] = ratings(session)
    case = session.scalar(select(Case).where(Case.case_no == "C1"))
    staff = session.scalar(select(Staff).where(Staff.code == "S001"))
    edge_device = session.scalar(select(Device).where(Device.code == "EDGE-P"))
    assert case is not None and staff is not None and edge_device is not None
    assert (rating.case_id, rating.prompt_id, rating.staff_id) == (case.id, prompt.id, staff.id)
    assert (rating.department_id, rating.window_id, rating.device_id) == (
        case.department_id,
        prompt.window_id,
        edge_device.id,
    )
    assert (rating.channel, rating.level, rating.weight, rating.burst) == ("window_device", 4, 1.0, False)
    assert rating.rated_at == seconds(clock, 5) and str(rating.rated_on) == "2026-11-27"
    press_row = session.scalar(select(KeypadPress))
    assert press_row is not None and (press_row.rating_id, press_row.outcome) == (rating.id, "bound")


def test_second_press_within_correction_time_replaces_and_keeps_history(
    client: TestClient, anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    serve_now(client, clock)
    post(anon, edge["EDGE-P"], press(seconds(clock, 5), 5, seq=1))
    post(anon, edge["EDGE-P"], press(seconds(clock, 9), 3, seq=2))
    [rating] = ratings(session)
    assert (rating.level, rating.rated_at) == (3, seconds(clock, 5))
    [revision] = session.scalars(select(RatingRevision)).all()
    assert (revision.rating_id, revision.level) == (rating.id, 5)
    assert (revision.rated_at, revision.replaced_at) == (seconds(clock, 5), seconds(clock, 9))
    assert outcomes(session) == ["bound", "replaced"]


def test_later_presses_are_unbound_window_ratings(
    client: TestClient, anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    serve_now(client, clock)
    post(anon, edge["EDGE-P"], press(seconds(clock, 5), 5, seq=1), press(seconds(clock, 60), 4, seq=2))
    bound, unbound = ratings(session)
    assert bound.case_id is not None
    staff = session.scalar(select(Staff).where(Staff.code == "S001"))
    window = session.scalar(select(ServiceWindow).where(ServiceWindow.code == "W01"))
    assert staff is not None and window is not None
    assert (unbound.case_id, unbound.prompt_id, unbound.level) == (None, None, 4)
    assert (unbound.staff_id, unbound.department_id, unbound.window_id) == (
        staff.id,
        window.department_id,
        window.id,
    )
    assert outcomes(session) == ["bound", "unbound"]
    # two staff members at the window: an unbound rating names neither
    department = session.scalar(select(Department))
    assert department is not None
    session.add(Staff(code="S002", name="李四", department_id=department.id, window_id=window.id))
    session.add(
        Device(
            code="KP-W01", kind="keypad", name="1号窗口评价器", hall_id=window.hall_id, window_id=window.id
        )
    )
    session.commit()
    post(anon, edge["EDGE-P"], press(seconds(clock, 120), 5, seq=3))
    keypad = session.scalar(select(Device).where(Device.code == "KP-W01"))
    last = ratings(session)[-1]
    assert keypad is not None and (last.staff_id, last.device_id) == (None, keypad.id)


def test_rapid_presses_are_weighted_down_as_a_burst(
    anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    post(anon, edge["EDGE-P"], *[press(seconds(clock, -10 + s), 5, seq=s) for s in range(4)])
    assert [(r.burst, r.weight) for r in ratings(session)] == [
        (False, 1.0),
        (False, 1.0),
        (True, 0.25),
        (True, 0.25),
    ]
    assert outcomes(session) == ["unbound", "unbound", "burst", "burst"]


def test_presses_drained_late_and_out_of_order_bind_by_press_time(
    client: TestClient, anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    serve_now(client, clock)
    pressed = [
        press(seconds(clock, 5), 2, seq=1),
        press(seconds(clock, 8), 5, seq=2),
        press(seconds(clock, 70), 1, seq=3),
    ]
    clock.advance(hours=1)  # the outbox is drained an hour later, newest first
    post(anon, edge["EDGE-P"], *reversed(pressed))
    bound, unbound = ratings(session)
    assert (bound.level, bound.case_id is not None, unbound.case_id) == (5, True, None)
    assert outcomes(session) == ["bound", "replaced", "unbound"]


def test_bad_ratings_run_the_followup_hooks(
    client: TestClient, anon: TestClient, edge, session: Session, clock: FakeClock, bad_ratings
) -> None:
    serve_now(client, clock)
    post(anon, edge["EDGE-P"], press(seconds(clock, 5), 5, seq=1))
    assert bad_ratings == []
    post(anon, edge["EDGE-P"], press(seconds(clock, 7), 1, seq=2))  # corrected into 差评
    post(anon, edge["EDGE-P"], press(seconds(clock, 9), 2, seq=3))  # still 差评: no second follow-up
    post(anon, edge["EDGE-P"], press(seconds(clock, 100), 2, seq=4), press(seconds(clock, 200), 3, seq=5))
    bound, unbound, good = ratings(session)
    assert [(c["rating_id"], c["case_id"] is not None) for c in bad_ratings] == [
        (bound.id, True),
        (unbound.id, False),
    ]
    assert good.level == 3
    assert all(c["now"] == clock() for c in bad_ratings)
    # the follow-ups module registers its hook the same way: each 差评 has its follow-up
    assert set(session.scalars(select(FollowUp.rating_id))) == {bound.id, unbound.id}


def test_historical_events_prompt_no_one(
    client: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    r = client.post(EVENTS, json=[served("old-1", "OLD", seconds(clock, -3600))])
    assert r.status_code == 200, r.text
    r = client.post(EVENTS, json=[served("nowin-1", "NOWIN", clock(), window_code=None)])
    assert r.status_code == 200, r.text
    assert session.scalars(select(RatingPrompt)).all() == []
    assert session.scalars(select(DeviceCommand)).all() == []


def test_a_rated_case_gets_no_second_prompt(
    client: TestClient, anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    serve_now(client, clock)
    post(anon, edge["EDGE-P"], press(seconds(clock, 5), 5))
    r = client.post(EVENTS, json=[served("C1-e2", "C1", seconds(clock, 30), type="accepted")])
    assert r.status_code == 200, r.text
    assert len(session.scalars(select(RatingPrompt)).all()) == 1
    r = client.post(PROMPTS, json={"window": "W01", "case_no": "C1"})
    assert r.status_code == 409


def test_staff_request_rating_within_jurisdiction(
    client: TestClient, anon: TestClient, db: Engine, edge, session: Session, clock: FakeClock
) -> None:
    r = client.post(EVENTS, json=[served("C1-e1", "C1", seconds(clock, -86400))])
    assert r.status_code == 200, r.text
    make_user(db, "county", role=Role.SYSADMIN, scope="region:510104")
    county = login(anon, "county", "correct-horse-battery-2026")
    assert anon.post(PROMPTS, json={"window": "W01", "case_no": "C1"}, headers=county).status_code == 404
    assert anon.post(PROMPTS, json={"window": "W01", "case_no": "NOPE"}, headers=county).status_code == 404
    assert session.scalars(select(RatingPrompt)).all() == []

    make_user(db, "clerk", role=Role.POST_USER, scope="department:SCJGJ")
    clerk = login(anon, "clerk", "correct-horse-battery-2026")
    assert anon.post(PROMPTS, json={"window": "K01", "case_no": "C1"}, headers=clerk).status_code == 422
    assert (
        anon.post(PROMPTS, json={"window": "W01", "case_no": "C1", "x": 1}, headers=clerk).status_code == 422
    )
    r = anon.post(PROMPTS, json={"window": "W01", "case_no": "C1"}, headers=clerk)
    assert r.status_code == 201, r.text
    assert (r.json()["staff_no"], r.json()["window"]) == ("S001", "W01")
    prompt = session.scalar(select(RatingPrompt))
    assert prompt is not None and prompt.source == "staff_request"
    post(anon, edge["EDGE-P"], press(seconds(clock, 3), 5))
    [rating] = ratings(session)
    assert rating.prompt_id == prompt.id
