"""A month of records scored by the daily pass and checked against figures worked out by hand from the
Sichuan profile's scheme (common/profiles/data/sichuan-2011.yaml), on both databases.

The clerk S001 sits alone at window W01 of the provincial hall. In November 2026:

=========  ==================================================================  ==============
day        record                                                              lines (S001)
=========  ==================================================================  ==============
Mon  2     light yellow on case A                                              −5
Tue  3     A's yellow turns red; light yellow on case B                        −10, −5, clamp +6
Wed  4     light yellow on case C (3rd working day running with a warning)     −5, −3, clamp +8
Thu  5     confirmed absence at W01 (and one at W02, two clerks: neither)      −2
Fri  6     10 cases closed (3 early, 2 without a window); ratings 5,5,5,5,1    +3, clamp −3,
           (好评率 80 %: −10 + (0.8−0.6)/(0.95−0.6)×10 = −4.29)                 −5 (cap), −4.29
Tue 10     the 差评's follow-up was due Mon 9 and is not rectified              −2
Wed 11     a confirmed patrol finding at W01 (phone)                           −2
=========  ==================================================================  ==============

期限合法 (14): −5 −10 −5 −5 −3 +3 = −25, clamped at −14 (clamp lines +6 +8 −3): 0.
监督检查 (14): −4 → 10; 满意度 (10): 5.71; 流程规范 (14): −5 (the cap) → 9; 服务态度 (10): 8.
Month score on the 12th: 0 + 10 + 5.71 + 9 + 8 + 10 + 8 + 10 + 10 = 70.71.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.approvals.models import ApprovalRequest
from central.audit.models import AuditEntry
from central.calendar.service import load_calendar
from central.ratings.models import Rating
from central.scores.daily import run_scores
from central.scores.engine import compute_day
from central.scores.lines import SubjectRef
from central.scores.models import ScoreCorrection, ScoreDay, ScoreLine, ScoreMonth
from tests.central.scores.world import World, at, build_world

NOV = {d: date(2026, 11, d) for d in range(1, 31)}
NOW = at(date(2026, 12, 1), 10)


def scored(session: Session, world: World, *, through: date = NOV[12]) -> None:
    run_scores(
        session,
        now=NOW,
        default_profile_key="sichuan-2011",
        instance="test",
        delay=timedelta(hours=1),
        close_working_day=5,
        through=through,
    )


def row(session: Session, kind: str, subject: int, day: date) -> ScoreDay:
    return session.scalars(
        select(ScoreDay).where(
            ScoreDay.subject_kind == kind,
            ScoreDay.subject_id == subject,
            ScoreDay.day == day,
            ScoreDay.current.is_(True),
        )
    ).one()


def lines(session: Session, kind: str, subject: int, day: date) -> list[tuple[str, float]]:
    day_row = row(session, kind, subject, day)
    found = session.execute(
        select(ScoreLine.rule_code, ScoreLine.points)
        .where(ScoreLine.score_day_id == day_row.id)
        .order_by(ScoreLine.id)
    )
    return [(code, points) for code, points in found]


@pytest.fixture
def november(session: Session, registry: dict[str, int]) -> World:
    world = build_world(session, registry)
    case_a = world.case(staff=world.s001, window=world.w01)
    case_b = world.case(staff=world.s001, window=world.w01)
    case_c = world.case(staff=world.s001, window=world.w01)
    world.signal(reason="light_yellow", colour="yellow", day=NOV[2], case=case_a, escalated=NOV[3])
    world.signal(reason="light_yellow", colour="yellow", day=NOV[3], case=case_b)
    world.signal(reason="light_yellow", colour="yellow", day=NOV[4], case=case_c)
    world.absence(window=world.w01, day=NOV[5])
    world.absence(window=world.w02, day=NOV[5])
    world.absence(window=world.w01, day=NOV[9], status="dismissed")
    for n in range(10):
        early = n < 3
        world.case(
            staff=world.s001,
            window=None if n >= 8 else world.w01,
            closed_on=NOV[6],
            due=NOV[9] if early else NOV[6],
        )
    bad = 0
    for level in (5, 5, 5, 5, 1):
        rating = world.rating(level=level, day=NOV[6], staff=world.s001, window=world.w01)
        bad = rating if level == 1 else bad
    world.follow_up(rating=bad, due=NOV[9])
    world.patrol_finding(window=world.w01, day=NOV[11], category="phone")
    world.investigation(due=NOV[9])
    world.signal(reason="unlawful_fees", colour="red", day=NOV[12])
    session.commit()
    return world


def test_the_clerks_lines_day_by_day(session: Session, november: World) -> None:
    scored(session, november)
    s001 = november.s001
    assert lines(session, "staff", s001, NOV[2]) == [("light_yellow", -5.0)]
    # Lines come in the scheme's rule order, clamp lines last.
    assert lines(session, "staff", s001, NOV[3]) == [
        ("light_yellow", -5.0),
        ("light_red", -10.0),
        ("clamp:time_limits", 6.0),
    ]
    assert lines(session, "staff", s001, NOV[4]) == [
        ("light_yellow", -5.0),
        ("warnings_in_a_row", -3.0),
        ("clamp:time_limits", 8.0),
    ]
    assert lines(session, "staff", s001, NOV[5]) == [("confirmed_absence", -2.0)]
    assert sorted(lines(session, "staff", s001, NOV[6])) == sorted(
        [
            ("early_completion", 3.0),
            ("missing_data", -5.0),
            ("satisfaction", -4.29),
            ("clamp:time_limits", -3.0),
        ]
    )
    assert lines(session, "staff", s001, NOV[9]) == []  # a dismissed absence counts nothing
    assert lines(session, "staff", s001, NOV[10]) == [("rectification_overdue", -2.0)]
    assert lines(session, "staff", s001, NOV[11]) == [("patrol_discipline", -2.0)]
    last = row(session, "staff", s001, NOV[12])
    assert last.month_score == 70.71
    assert last.dimensions == {
        "disclosure": 10,
        "procedure": 9,
        "time_limits": 0,
        "fees": 8,
        "satisfaction": 5.71,
        "attitude": 8,
        "supervision": 10,
        "accountability": 10,
        "integrity": 10,
    }


def test_every_line_is_explained_and_names_its_record(session: Session, november: World) -> None:
    scored(session, november)
    day_row = row(session, "staff", november.s001, NOV[3])
    explained = session.scalars(select(ScoreLine).where(ScoreLine.score_day_id == day_row.id)).all()
    red = next(line for line in explained if line.rule_code == "light_red")
    assert red.explanation.startswith("红灯 1 件 × −10 = −10")
    assert red.source_kind == "signal" and red.source_id is not None
    clamp = next(line for line in explained if line.rule_code.startswith("clamp:"))
    assert "期限合法满分 14" in clamp.explanation and clamp.source_kind == "clamp"


def test_shared_window_charges_the_window_not_its_two_clerks(session: Session, november: World) -> None:
    scored(session, november)
    assert lines(session, "window", november.w02, NOV[5]) == [("confirmed_absence", -2.0)]
    assert lines(session, "staff", november.s002, NOV[5]) == []
    assert lines(session, "staff", november.s003, NOV[5]) == []


def test_department_and_hall_carry_what_no_clerk_does(session: Session, november: World) -> None:
    scored(session, november)
    dept_lines = lines(session, "department", november.dept, NOV[10])
    assert ("overdue_investigation", -3.0) in dept_lines
    assert ("overdue_investigation", -3.0) not in lines(session, "staff", november.s001, NOV[10])
    # 收费合理 weighs 8: a −10 is held at 0 by a clamp line of +2.
    assert lines(session, "hall", november.hall, NOV[12]) == [("unlawful_fees", -10.0), ("clamp:fees", 2.0)]
    # The county hall had none of it: full marks every day.
    county = row(session, "hall", november.county_hall, NOV[12])
    assert county.month_score == 100 and county.lines_count == 0


def test_the_pass_is_idempotent_and_catches_up(session: Session, november: World) -> None:
    scored(session, november, through=NOV[5])
    first = row(session, "staff", november.s001, NOV[5]).id
    scored(session, november)  # catches up from the 6th
    scored(session, november)  # nothing left: nothing written
    assert row(session, "staff", november.s001, NOV[5]).id == first
    count = session.scalars(
        select(ScoreDay.id).where(ScoreDay.subject_kind == "staff", ScoreDay.subject_id == november.s001)
    ).all()
    assert len(count) == (NOV[12] - date(2026, 10, 1)).days + 1  # from the previous month's first day
    # October ended and its close day (the 5th working day of November) has passed: closed, audited.
    assert session.scalars(select(ScoreMonth.month)).all() == ["2026-10"]
    actions = session.scalars(select(AuditEntry.action)).all()
    assert "score.month.close" in actions and "score.day.compute" in actions


def _approve_exclusion(session: Session, world: World, rating_id: int, *, decided: datetime) -> int:
    """What an approved 差评 exclusion leaves behind (central.ratings.exclusion): the request, decided
    and applied, and the rating marked excluded by it."""
    request = ApprovalRequest(
        kind="rating_exclusion",
        status="approved",
        level="province",
        target_type="rating",
        target_id=str(rating_id),
        payload="{}",
        reason="恶意差评",
        hall_id=world.hall,
        requested_by_id=world.user,
        requested_at=decided - timedelta(hours=2),
        decided_by_id=world.user,
        decided_at=decided,
        result=json.dumps({"rating_id": rating_id, "excluded": True}),
    )
    session.add(request)
    session.flush()
    rating = session.get_one(Rating, rating_id)
    rating.excluded, rating.excluded_by_approval_id = True, request.id
    session.commit()
    return request.id


def test_an_approved_exclusion_recomputes_the_days_and_keeps_the_earlier_figure(
    session: Session, november: World
) -> None:
    scored(session, november)
    before = row(session, "staff", november.s001, NOV[12])
    assert before.month_score == 70.71
    bad = session.scalars(select(Rating.id).where(Rating.level == 1)).one()
    later = NOW + timedelta(days=1)
    approval = _approve_exclusion(session, november, bad, decided=later)
    run_scores(
        session,
        now=later + timedelta(minutes=5),
        default_profile_key="sichuan-2011",
        instance="test",
        delay=timedelta(hours=1),
        close_working_day=5,
        through=NOV[12],
    )
    # Four ratings left: fewer than the five the rule needs, so 满意度 is not scored (+4.29 back), and
    # the excluded 差评's follow-up no longer counts (+2 back).
    after = row(session, "staff", november.s001, NOV[12])
    assert after.month_score == 77.0 and after.revision == 2
    assert ("satisfaction", -4.29) not in lines(session, "staff", november.s001, NOV[6])
    assert lines(session, "staff", november.s001, NOV[10]) == []
    earlier = session.get_one(ScoreDay, before.id)
    assert not earlier.current and earlier.month_score == 70.71
    assert earlier.superseded_reason is not None and f"审批 #{approval}" in earlier.superseded_reason
    # Days before the rating's day kept their rows; the county hall was not touched.
    assert row(session, "staff", november.s001, NOV[5]).revision == 1
    assert row(session, "hall", november.county_hall, NOV[12]).revision == 1
    correction = session.scalars(select(ScoreCorrection)).one()
    assert correction.approval_id == approval and correction.day == NOV[6] and correction.changed
    assert "score.recompute" in session.scalars(select(AuditEntry.action)).all()


def test_a_day_recomputed_as_of_its_first_computation_gives_the_same_lines(
    session: Session, november: World
) -> None:
    """Records as they stood: an exclusion approved after `as_of` is not yet an exclusion."""
    scored(session, november)
    bad = session.scalars(select(Rating.id).where(Rating.level == 1)).one()
    _approve_exclusion(session, november, bad, decided=NOW + timedelta(days=1))
    again = compute_day(
        session,
        day=NOV[6],
        as_of=NOW,
        calendar=load_calendar(session),
        default_profile_key="sichuan-2011",
        hall_ids=[november.hall],
    )
    clerk = next(
        s
        for s in again.subjects
        if s.subject == SubjectRef("staff", november.s001, november.hall, november.dept, "sichuan-2011")
    )
    assert clerk.month_score == row(session, "staff", november.s001, NOV[6]).month_score
    assert ("satisfaction", -4.29) in [(line.rule_code, line.points) for line in clerk.lines]
