"""Counts that reach central after their day was judged (an edge outbox drained after a cut): the
signal source judges those window-days again, both databases."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.audit.models import AuditEntry
from central.dualtrack.judge import judge_day, judge_due_days
from central.dualtrack.models import DualTrackJudgement
from central.signals.models import Signal
from common.profiles.loader import DEFAULT_PROFILE_KEY
from tests.central.dualtrack.days import DAY, Window, windows
from tests.central.dualtrack.test_judge import CALENDAR
from tests.central.dualtrack.visit_days import generate_visits, insert_day_cases, upload_visits
from tests.central.video.helpers import World, edge, world
from tests.conftest import FakeClock

__all__ = ["edge", "windows", "world"]


MORNING, AFTERNOON = range(0, 12), range(12, 24)


def _judgements(session: Session) -> dict[int, DualTrackJudgement]:
    session.expire_all()
    return {
        j.window_id: j
        for j in session.scalars(select(DualTrackJudgement).where(DualTrackJudgement.day == DAY))
    }


def test_a_day_is_judged_again_with_the_counts_that_came_late(
    client: TestClient, world: World, session: Session, windows: dict[str, Window], clock: FakeClock
) -> None:
    rng = np.random.default_rng(17)
    w01 = generate_visits(rng, visits=110, enquiry=0.2, unrecorded=0.5)
    w02 = generate_visits(rng, visits=110, enquiry=0.2, unrecorded=0.5)
    # The morning after: W01's agent had sent its morning only, W02's nothing (cut off).
    clock.set_shanghai(DAY.year, DAY.month, DAY.day + 1, hour=3)
    upload_visits(client, world, windows["W01"], DAY, w01, hours=MORNING)
    insert_day_cases(session, windows["W01"], DAY, w01.cases)
    insert_day_cases(session, windows["W02"], DAY, w02.cases)
    session.commit()
    report = judge_day(
        session,
        day=DAY,
        now=clock(),
        calendar=CALENDAR,
        default_profile=DEFAULT_PROFILE_KEY,
        instance="tests",
    )
    session.commit()
    assert report.judged
    first = _judgements(session)
    assert set(first) == {windows["W01"].id}
    morning_visits, morning_id = first[windows["W01"].id].visits, first[windows["W01"].id].id
    assert (
        judge_due_days(  # nothing came late yet: nothing judged again
            session, today=DAY, now=clock(), calendar=CALENDAR, default_profile=DEFAULT_PROFILE_KEY
        )
        == 0
    )
    assert not session.scalars(select(AuditEntry).where(AuditEntry.action == "dualtrack.day.rejudge")).all()

    clock.advance(hours=2)  # the link is back: the outboxes drain
    upload_visits(client, world, windows["W01"], DAY, w01, hours=AFTERNOON)
    upload_visits(client, world, windows["W02"], DAY, w02)
    clock.advance(minutes=10)
    issued = judge_due_days(
        session, today=DAY, now=clock(), calendar=CALENDAR, default_profile=DEFAULT_PROFILE_KEY
    )
    session.commit()
    again = _judgements(session)
    assert set(again) == {windows["W01"].id, windows["W02"].id}
    assert again[windows["W01"].id].id == morning_id and again[windows["W01"].id].visits > morning_visits
    assert {j.outcome for j in again.values()} == {"flagged"}  # half unrecorded, the whole day seen
    assert issued == len({j.signal_id for j in again.values()} - {None}) >= 1
    signals = session.scalars(select(Signal)).all()
    assert sorted(s.id for s in signals) == sorted(j.signal_id for j in again.values() if j.signal_id)
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "dualtrack.day.rejudge")).one()
    changes = {c["window"]: c for c in json.loads(audited.after or "{}")["windows"]}
    assert changes["W02"]["before"] is None and changes["W02"]["after"][0] == "flagged"
    assert changes["W01"]["before"][1] == morning_visits

    clock.advance(minutes=10)  # judged with everything: the next pass leaves the day alone
    assert (
        judge_due_days(
            session, today=DAY, now=clock(), calendar=CALENDAR, default_profile=DEFAULT_PROFILE_KEY
        )
        == 0
    )
    assert (
        len(session.scalars(select(AuditEntry).where(AuditEntry.action == "dualtrack.day.rejudge")).all())
        == 1
    )
    assert timedelta(0) < clock() - again[windows["W02"].id].computed_at
