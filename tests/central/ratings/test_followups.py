"""Follow-ups of 差评 (HCP): opened for every 差评 and for nothing else, rectification deadlines in
working days by profile (Sichuan 15, Shenzhen 5) across holidays, the callback → rectify → close
lifecycle with its roles, 409s and 422s, jurisdiction (404 like a missing one) and the audit."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.audit.chain import verify
from central.audit.hashing import canonical_json
from central.audit.models import AuditEntry
from central.calendar.service import load_calendar
from central.ratings.followups import open_followup, snapshot
from central.ratings.models import FollowUp, Rating
from common.profiles.loader import get_profile
from tests.central.ratings.followup_world import (
    FOLLOWUPS,
    World,
    add_case,
    add_rating,
    build_world,
    followup_of,
    sh,
    use_shenzhen_rules,
)
from tests.conftest import FakeClock


@pytest.fixture
def world(client: TestClient, db: Engine, session: Session, registry: dict[str, int]) -> World:
    return build_world(client, db, session, registry)


def test_every_bad_rating_opens_one_followup_and_good_ones_none(session: Session, world: World) -> None:
    bad = add_rating(session, world, level=1, at=sh(2026, 11, 20))
    unhappy = add_rating(session, world, level=2, at=sh(2026, 11, 20, 11))
    fair = add_rating(session, world, level=3, at=sh(2026, 11, 20, 12))
    good = add_rating(session, world, level=5, at=sh(2026, 11, 20, 13))
    opened = followup_of(session, bad)
    assert opened is not None and followup_of(session, unhappy) is not None
    assert followup_of(session, fair) is None and followup_of(session, good) is None
    assert (opened.status, opened.hall_id, opened.department_id) == (
        "open",
        world.ids["hall"],
        world.ids["SCJGJ"],
    )

    # Idempotent: the hook again (a correction, a re-sent batch) keeps the one follow-up.
    rating = session.get(Rating, bad)
    assert rating is not None
    profile = get_profile("sichuan-2011")
    again = open_followup(
        session, rating=rating, profile=profile, calendar=load_calendar(session), now=sh(2026, 11, 21)
    )
    assert again is not None and again.id == opened.id
    assert len(session.scalars(select(FollowUp).where(FollowUp.rating_id == bad)).all()) == 1
    opens = session.scalars(select(AuditEntry).where(AuditEntry.action == "followup.open")).all()
    assert len(opens) == 2 and {e.actor for e in opens} == {"system:ratings"}
    # The audited state of the opening is the follow-up's snapshot as stored (written from rows).
    stored = session.get(FollowUp, opened.id)
    assert stored is not None
    entry = next(e for e in opens if e.target_id == str(opened.id))
    assert entry.after is not None
    assert json.loads(entry.after) == json.loads(
        canonical_json({**snapshot(stored), "rating_id": bad, "level": 1}) or ""
    )


def test_a_rating_without_department_answers_through_its_window(session: Session, world: World) -> None:
    rating_id = add_rating(session, world, level=1, at=sh(2026, 11, 20))
    rating = session.get(Rating, rating_id)
    assert rating is not None
    rating.department_id = None  # e.g. an unbound window rating of a window that has its department
    session.commit()
    session.delete(followup_of(session, rating_id))
    session.commit()
    made = open_followup(
        session,
        rating=rating,
        profile=get_profile("sichuan-2011"),
        calendar=load_calendar(session),
        now=sh(2026, 11, 20),
    )
    assert made is not None and made.department_id == world.ids["SCJGJ"]


def test_excluded_ratings_open_nothing(session: Session, world: World) -> None:
    rating = Rating(
        channel="web", level=1, hall_id=world.ids["hall"], rated_at=sh(2026, 11, 20), rated_on=date(2026, 11, 20),
        weight=1.0, burst=False, excluded=True, updated_at=sh(2026, 11, 20),
    )  # fmt: skip
    session.add(rating)
    session.flush()
    made = open_followup(
        session,
        rating=rating,
        profile=get_profile("sichuan-2011"),
        calendar=load_calendar(session),
        now=sh(2026, 11, 20),
    )
    assert made is None


def test_deadlines_count_working_days_by_profile_across_national_day(
    session: Session, world: World, registry: dict[str, int]
) -> None:
    """A 差评 on Wed 2026-09-30: 10-01..10-07 are holidays, Sat 10-10 is a working day.
    Shenzhen (5): 10-08, 10-09, 10-10, 10-12, 10-13. Sichuan (15): … 10-26, 10-27."""
    use_shenzhen_rules(session, registry)
    sichuan = add_rating(session, world, level=1, at=sh(2026, 9, 30, 16))
    shenzhen = add_rating(session, world, level=2, at=sh(2026, 9, 30, 16), county=True)
    sichuan_followup, shenzhen_followup = followup_of(session, sichuan), followup_of(session, shenzhen)
    assert sichuan_followup is not None and sichuan_followup.rectify_due == date(2026, 10, 27)
    assert shenzhen_followup is not None and shenzhen_followup.rectify_due == date(2026, 10, 13)


def test_a_missing_calendar_year_leaves_the_deadline_empty_never_a_500(
    client: TestClient, session: Session, world: World, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    clock.set_shanghai(2026, 12, 28, 11)
    with caplog.at_level(logging.WARNING, logger="central.ratings.followups"):
        rating_id = add_rating(session, world, level=1, at=sh(2026, 12, 28, 10))  # 15 days reach into 2027
    followup = followup_of(session, rating_id)
    assert followup is not None and followup.rectify_due is None
    assert "calendar years [2027] missing" in caplog.text
    response = client.get(f"{FOLLOWUPS}/{followup.id}")
    assert response.status_code == 200 and response.json()["rectify_due"] is None
    assert response.json()["overdue"] is False


def _followup_id(session: Session, rating_id: int) -> int:
    followup = followup_of(session, rating_id)
    assert followup is not None
    return followup.id


def _post(
    client: TestClient, world: World, who: str, followup_id: int, step: str, body: dict[str, object]
) -> int:
    response = client.post(f"{FOLLOWUPS}/{followup_id}/{step}", json=body, auth=world.people[who])
    return int(response.status_code)


def test_lifecycle_with_roles_conflicts_and_audit(
    client: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    add_case(client, "HW-R1")
    rating_id = add_rating(session, world, level=1, at=sh(2026, 11, 20), case_no="HW-R1", text="态度差")
    followup = followup_of(session, rating_id)
    assert followup is not None
    fid = followup.id
    clerk, inspector = world.people["clerk"], world.people["inspector"]

    detail = client.get(f"{FOLLOWUPS}/{fid}", auth=clerk).json()
    assert (
        detail["case_no"] == "HW-R1"
        and detail["staff_code"] == "S001"
        and detail["level_label"] == "非常不满意"
    )
    assert detail["allowed_steps"] == ["callback"] and detail["rectify_due"] == "2026-12-11"
    assert client.get(f"{FOLLOWUPS}/{fid}", auth=inspector).json()["allowed_steps"] == []

    # Steps out of order, and by the wrong role, change nothing.
    assert _post(client, world, "clerk", fid, "rectify", {"rectification": "培训"}) == 409
    assert _post(client, world, "inspector", fid, "callback", {"result": "已联系"}) == 403
    assert _post(client, world, "clerk", fid, "close", {}) == 403
    # Bad input: 422.
    assert _post(client, world, "clerk", fid, "callback", {"result": ""}) == 422
    assert _post(client, world, "clerk", fid, "callback", {"result": "x", "extra": 1}) == 422
    assert (
        _post(
            client, world, "clerk", fid, "callback", {"result": "x", "called_at": "2026-11-30T10:00:00+08:00"}
        )
        == 422
    )
    assert (
        _post(
            client, world, "clerk", fid, "callback", {"result": "x", "called_at": "2026-11-19T10:00:00+08:00"}
        )
        == 422
    )
    assert client.get(f"{FOLLOWUPS}/{fid}", auth=clerk).json()["status"] == "open"

    body = {
        "result": "群众反映等候时间长，已致歉",
        "called_by": "王科长",
        "called_at": "2026-11-23T15:00:00+08:00",
    }
    response = client.post(f"{FOLLOWUPS}/{fid}/callback", json=body, auth=clerk)
    assert response.status_code == 200, response.text
    shown = response.json()
    assert (shown["status"], shown["callback_by"], shown["callback_at"]) == (
        "called_back",
        "王科长",
        "2026-11-23T07:00:00Z",
    )
    assert shown["allowed_steps"] == ["rectify"]
    assert _post(client, world, "clerk", fid, "callback", {"result": "again"}) == 409

    clock.advance(hours=1)
    assert _post(client, world, "clerk", fid, "rectify", {"rectification": "增设取号提醒"}) == 200
    assert _post(client, world, "clerk", fid, "rectify", {"rectification": "again"}) == 409
    assert _post(client, world, "inspector", fid, "close", {"rerating_level": 6}) == 422
    response = client.post(f"{FOLLOWUPS}/{fid}/close", json={"rerating_level": 4}, auth=inspector)
    assert response.status_code == 200, response.text
    closed = response.json()
    assert (closed["status"], closed["rerating_level"], closed["rectified_by"]) == ("closed", 4, "clerk")
    assert closed["closed_at"] is not None and closed["allowed_steps"] == []
    assert _post(client, world, "inspector", fid, "close", {}) == 409

    session.expire_all()
    actions = [
        (e.action, e.actor)
        for e in session.scalars(
            select(AuditEntry).where(AuditEntry.target_type == "rating_followup").order_by(AuditEntry.seq)
        )
    ]
    assert actions == [
        ("followup.open", "system:ratings"),
        ("followup.callback", "user:clerk"),
        ("followup.rectify", "user:clerk"),
        ("followup.close", "user:inspector"),
    ]
    assert verify(session).ok


def test_other_jurisdictions_get_404_like_a_missing_followup(
    client: TestClient, session: Session, world: World
) -> None:
    rating_id = add_rating(session, world, level=2, at=sh(2026, 11, 20))
    followup = followup_of(session, rating_id)
    assert followup is not None
    fid = followup.id
    for who in ("county_clerk", "county_inspector"):
        assert client.get(f"{FOLLOWUPS}/{fid}", auth=world.people[who]).status_code == 404
        assert client.get(f"{FOLLOWUPS}/999999", auth=world.people[who]).status_code == 404
    assert _post(client, world, "county_clerk", fid, "callback", {"result": "越权"}) == 404
    assert _post(client, world, "county_clerk", 999999, "callback", {"result": "x"}) == 404
    assert client.get(f"{FOLLOWUPS}/0").status_code == 422
    listed = client.get(FOLLOWUPS, auth=world.people["county_clerk"]).json()
    assert listed["total"] == 0
    assert client.get(FOLLOWUPS, auth=world.people["clerk"]).json()["total"] == 1
    # A system administrator (cases.write) may call back too, inside the scope `*`.
    assert _post(client, world, "sysadmin", fid, "callback", {"result": "已联系"}) == 200


def test_list_filters_and_overdue(
    client: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    """As of 2026-11-27: a 差评 of 11-02 was due 11-23 (overdue), one of 11-20 is due 12-11."""
    old = add_rating(session, world, level=1, at=sh(2026, 11, 2))
    recent = add_rating(session, world, level=2, at=sh(2026, 11, 20))
    county = add_rating(session, world, level=1, at=sh(2026, 11, 3), county=True)
    ids = {
        name: _followup_id(session, rid)
        for name, rid in (("old", old), ("recent", recent), ("county", county))
    }

    def listed(query: str) -> list[int]:
        response = client.get(f"{FOLLOWUPS}?{query}")
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert listed("") == [ids["recent"], ids["county"], ids["old"]]  # newest opened first
    assert listed("overdue=true") == [ids["county"], ids["old"]]
    assert listed("overdue=true&hall=510000-ZWFW") == [ids["old"]]
    assert listed("department=JJSJ") == [ids["county"]]
    assert listed("from=2026-11-10&to=2026-11-30") == [ids["recent"]]
    assert listed("status=called_back") == []
    first = client.get(f"{FOLLOWUPS}/{ids['old']}").json()
    assert first["overdue"] is True and first["rectify_due"] == "2026-11-23"
    for bad in (
        "status=done",
        "from=2026-13-01",
        "from=2026-11-20&to=2026-11-01",
        "page=0",
        "page_size=501",
        "hall=%20x",
    ):
        assert client.get(f"{FOLLOWUPS}?{bad}").status_code == 422, bad


def test_extreme_times_and_dates_are_422_not_500(client: TestClient, session: Session, world: World) -> None:
    fid = _followup_id(session, add_rating(session, world, level=1, at=sh(2026, 11, 20)))
    for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:00-12:00"):
        assert _post(client, world, "clerk", fid, "callback", {"result": "x", "called_at": moment}) == 422
    for query in ("to=0001-01-05", "from=0001-01-01&to=0001-01-02", "to=9999-12-31"):
        assert client.get(f"/api/v1/ratings/figures?{query}").status_code == 422, query
        assert client.get(f"/api/v1/ratings/export?format=csv&{query}").status_code == 422, query
