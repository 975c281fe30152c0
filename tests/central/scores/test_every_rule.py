"""Every rule of the shipped schemes meets a record it counts, on both databases: one record on the
Monday, and the department's line of that rule is the rule's own points. Every source is recorded
now (complaints since issue 18): the test names any that is not, so it fails if one should count."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.scores.daily import run_scores
from central.scores.models import ScoreDay, ScoreLine
from central.signals.reasons import REASONS, Color
from common.profiles import shipped_profiles
from common.profiles.scoring import PerRecordRule, RunRule, ScoreSource
from tests.central.scores.world import World, at, build_world

MONDAY = date(2026, 11, 2)
NOT_RECORDED_YET: set[ScoreSource] = set()
SICHUAN = shipped_profiles()["sichuan-2011"].scoring
RECORD_RULES = [r for r in SICHUAN.rules if isinstance(r, PerRecordRule)]
# Shenzhen's complaint rules: Sichuan scores no overdue complaint, so its rule is tested there.
SHENZHEN_COMPLAINT_RULES = [
    r
    for r in shipped_profiles()["shenzhen-2007"].scoring.rules
    if isinstance(r, PerRecordRule)
    and r.source in {ScoreSource.COMPLAINT_UPHELD, ScoreSource.COMPLAINT_OVERDUE}
]


def _record_for(world: World, rule: PerRecordRule) -> None:
    """One record the rule counts, on MONDAY (or due the day before), at W01 of the provincial hall."""
    case = world.case(staff=world.s001, window=world.w01)
    if rule.source in {ScoreSource.YELLOW_SIGNAL, ScoreSource.RED_SIGNAL}:
        reason = rule.reasons[0]
        colour = REASONS[reason].color
        escalated = MONDAY if rule.source is ScoreSource.RED_SIGNAL and colour is Color.YELLOW else None
        world.signal(reason=reason, colour=colour.value, day=MONDAY, case=case, escalated=escalated)
    elif rule.source is ScoreSource.FAULT_FINDING:
        world.signal(
            reason="other_minor",
            colour="yellow",
            day=MONDAY - timedelta(days=7),
            closed=MONDAY,
            finding="fault",
        )
    elif rule.source is ScoreSource.PATROL_FINDING:
        world.patrol_finding(window=world.w01, day=MONDAY, category=(rule.categories or ["other"])[0])
    elif rule.source is ScoreSource.CONFIRMED_ABSENCE:
        world.absence(window=world.w01, day=MONDAY)
    elif rule.source is ScoreSource.RECTIFICATION_OVERDUE:
        rating = world.rating(level=1, day=MONDAY - timedelta(days=20), staff=world.s001, window=world.w01)
        world.follow_up(rating=rating, due=MONDAY - timedelta(days=1))
    elif rule.source is ScoreSource.OVERDUE_INVESTIGATION:
        world.investigation(due=MONDAY - timedelta(days=1))
    elif rule.source is ScoreSource.BAD_RATING:
        world.rating(level=1, day=MONDAY, staff=world.s001, window=world.w01)
    elif rule.source is ScoreSource.COMPLAINT_UPHELD:
        received = MONDAY - timedelta(days=14)
        world.complaint(
            received=received,
            decide_by=received + timedelta(days=5),
            decided=received + timedelta(days=1),
            closed=MONDAY,
            upheld=True,
            staff=world.s001,
            window=world.w01,
        )
    elif rule.source is ScoreSource.COMPLAINT_OVERDUE:
        world.complaint(received=MONDAY - timedelta(days=9), decide_by=MONDAY - timedelta(days=1))
    else:
        raise AssertionError(f"no record made for {rule.source}")


@pytest.mark.parametrize("rule", RECORD_RULES, ids=lambda r: r.code)
def test_the_rule_counts_its_record(session: Session, registry: dict[str, int], rule: PerRecordRule) -> None:
    if rule.source in NOT_RECORDED_YET:
        pytest.skip(f"{rule.code}: {rule.source} is not recorded yet")
    _counts(session, registry, rule, profile_key="sichuan-2011")


@pytest.mark.parametrize("rule", SHENZHEN_COMPLAINT_RULES, ids=lambda r: r.code)
def test_the_complaint_rules_count_their_records(
    session: Session, registry: dict[str, int], rule: PerRecordRule
) -> None:
    _counts(session, registry, rule, profile_key="shenzhen-2007")


def _counts(session: Session, registry: dict[str, int], rule: PerRecordRule, *, profile_key: str) -> None:
    world = build_world(session, registry)
    _record_for(world, rule)
    session.commit()
    run_scores(
        session,
        now=at(MONDAY + timedelta(days=1), 10),
        default_profile_key=profile_key,
        instance="test",
        delay=timedelta(hours=1),
        close_working_day=5,
    )
    department = session.scalars(
        select(ScoreDay).where(
            ScoreDay.subject_kind == "department", ScoreDay.subject_id == world.dept, ScoreDay.day == MONDAY
        )
    ).one()
    found = session.execute(
        select(ScoreLine.rule_code, ScoreLine.points).where(ScoreLine.score_day_id == department.id)
    ).all()
    assert (rule.code, rule.points) in [(code, points) for code, points in found]


def test_every_rule_has_a_record() -> None:
    untested = {
        r.code
        for r in SICHUAN.rules
        if isinstance(r, PerRecordRule | RunRule) and r.source in NOT_RECORDED_YET
    }
    assert untested == set()
    assert {r.code for r in SHENZHEN_COMPLAINT_RULES} == {"complaint_upheld", "complaint_overdue"}
