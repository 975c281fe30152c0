"""Binding rule 6 through the real API: a press the window camera judged made with nobody at the
counter (RULES: a staff member must not rate themselves) makes an *unattended* rating that weighs
profile.ratings.unattended_weight (0 by default), stays on record, binds as any other press, and is
counted and marked on the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.app import create_app
from central.core.config import Settings
from central.ratings.binding import Press
from central.ratings.models import FollowUp, KeypadPress
from common.profiles.loader import get_profile
from tests.central.devices.helpers import OBSERVATIONS, edge, post, press, seconds
from tests.central.ratings.test_binding_api import ratings, serve_now
from tests.conftest import FakeClock, make_user

__all__ = ["edge"]


def attended(observation: dict[str, Any], present: bool | None) -> dict[str, Any]:
    return {**observation, "citizen_present": present}


def stored_verdicts(session: Session) -> list[bool | None]:
    session.expire_all()
    return list(session.scalars(select(KeypadPress.citizen_present).order_by(KeypadPress.pressed_at)))


def test_the_default_profile_gives_an_unattended_rating_no_weight() -> None:
    assert get_profile("sichuan-2011").ratings.unattended_weight == 0.0
    at = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert Press(0, 1, "KP", 5, at, citizen_present=False).unattended
    assert not Press(0, 1, "KP", 5, at, citizen_present=None).unattended
    assert not Press(0, 1, "KP", 5, at, citizen_present=True).unattended


def test_a_press_with_nobody_at_the_counter_still_binds_but_weighs_nothing(
    client: TestClient, anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    serve_now(client, clock)
    body = post(anon, edge["EDGE-P"], attended(press(seconds(clock, 5), 1), False))
    assert body["results"][0]["detail"] == "bound"  # the case keeps its one rating (一事一评)
    [rating] = ratings(session)
    assert rating.case_id is not None
    assert (rating.unattended, rating.weight, rating.burst, rating.excluded) == (True, 0.0, False, False)
    assert stored_verdicts(session) == [False]
    # a 差评 is a 差评 whoever pressed it: it is followed up
    assert list(session.scalars(select(FollowUp.rating_id))) == [rating.id]


def test_a_seen_citizen_or_no_camera_verdict_counts_in_full(
    anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    post(
        anon,
        edge["EDGE-P"],
        attended(press(seconds(clock, -300), 5, seq=1), True),
        press(seconds(clock, -200), 4, seq=2),  # an edge agent without cameras sends no verdict
        attended(press(seconds(clock, -100), 3, seq=3), None),
    )
    assert [(r.unattended, r.weight) for r in ratings(session)] == [(False, 1.0)] * 3
    assert stored_verdicts(session) == [True, None, None]


def test_a_correction_with_nobody_there_marks_the_rating_and_a_burst_does_not_lift_it(
    client: TestClient, anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    serve_now(client, clock)
    post(anon, edge["EDGE-P"], attended(press(seconds(clock, 5), 2, seq=1), True))
    # the citizen has gone; a second press within the correction time turns the 差评 into 非常满意
    post(anon, edge["EDGE-P"], attended(press(seconds(clock, 8), 5, seq=2), False))
    [rating] = ratings(session)
    assert (rating.level, rating.unattended, rating.weight) == (5, True, 0.0)
    post(anon, edge["EDGE-P"], attended(press(seconds(clock, 9), 5, seq=3), True))  # a burst press
    [rating] = ratings(session)
    assert (rating.burst, rating.unattended, rating.weight) == (True, True, 0.0)


def test_burst_and_unattended_presses_weigh_the_least_of_their_flags(
    anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    post(
        anon,
        edge["EDGE-P"],
        *[attended(press(seconds(clock, -10 + s), 5, seq=s), s != 3) for s in range(4)],
    )
    assert [(r.burst, r.unattended, r.weight) for r in ratings(session)] == [
        (False, False, 1.0),
        (False, False, 1.0),
        (True, False, 0.25),
        (True, True, 0.0),
    ]


def test_unattended_ratings_are_counted_and_marked_for_inspectors(
    client: TestClient,
    anon: TestClient,
    edge,
    session: Session,
    clock: FakeClock,
    db: Engine,
    settings: Settings,
) -> None:
    post(
        anon,
        edge["EDGE-P"],
        attended(press(seconds(clock, -900), 5, seq=1), False),
        attended(press(seconds(clock, -600), 5, seq=2), False),
        attended(press(seconds(clock, -300), 1, seq=3), True),
    )
    day = seconds(clock, 0).date().isoformat()
    shown = client.get(f"/api/v1/ratings/figures?by=staff&from={day}&to={day}").json()
    [row] = shown["rows"]
    assert (row["count"], row["unattended_count"], row["weight"]) == (3, 2, 1.0)
    assert row["satisfaction_rate"] == 0.0  # only the 差评 the citizen gave counts: 5s from nobody do not
    assert shown["total"]["unattended_count"] == 2
    password = make_user(db, "inspector-u", role=Role.SYSTEM_SUPERVISOR)
    with TestClient(create_app(settings, engine=db, clock=clock)) as browser:
        signed_in = browser.post(
            "/console/login", data={"username": "inspector-u", "password": password}, follow_redirects=False
        )
        assert signed_in.status_code == 303, signed_in.text
        page = browser.get(f"/console/ratings?by=staff&date_from={day}&date_to={day}").text
    assert (page.count(">无人在场</span>"), page.count('id="kpi-unattended">2<')) == (2, 1)


def test_a_verdict_that_is_not_a_boolean_is_refused_and_nothing_stored(
    anon: TestClient, edge, session: Session, clock: FakeClock
) -> None:
    response = anon.post(
        OBSERVATIONS,
        json={"observations": [attended(press(seconds(clock, -5), 5), "maybe")]},  # type: ignore[arg-type]
        headers=edge["EDGE-P"],
    )
    assert response.status_code == 422
    assert "citizen_present" in response.text
    assert ratings(session) == []
