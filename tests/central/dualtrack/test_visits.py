"""The visits method on both databases: where the edge reports each visit, quiet windows with many
enquiries, second cases and cases entered with nobody there stay clear, and a fifth of the served
visitors unrecorded is flagged; a day with an hour from an older agent (counts only) falls back to
the counts method, and each method's baseline reads only its own days."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.dualtrack.models import DualTrackJudgement
from central.dualtrack.rule import Method, Outcome
from central.signals.models import Signal
from tests.central.dualtrack.days import DAY, Window, hour_start, windows, write_day
from tests.central.dualtrack.test_judge import HISTORY, judge, outcomes
from tests.central.dualtrack.visit_days import generate_visits, upload_visits, write_visit_day
from tests.central.video.helpers import World, edge, upload, visitors, world

__all__ = ["edge", "windows", "world"]

DUAL = {"W02", "K01"}


def test_each_visit_matched_with_its_case_tells_dual_track_from_enquiries(
    client: TestClient, world: World, session: Session, windows: dict[str, Window]
) -> None:
    rng = np.random.default_rng(20261201)
    for back in range(HISTORY, 0, -1):
        day = DAY - timedelta(days=back)
        for window in windows.values():
            write_visit_day(
                client, world, session, window, day, generate_visits(rng, visits=110, enquiry=0.2)
            )
        assert judge(session, day)
        assert set(outcomes(session, day).values()) == {Outcome.CLEAR.value}
    for code, window in windows.items():
        generated = generate_visits(rng, visits=110, enquiry=0.2, unrecorded=0.2 if code in DUAL else 0.0)
        write_visit_day(client, world, session, window, DAY, generated)
    assert judge(session, DAY)
    assert outcomes(session, DAY) == {c: "flagged" if c in DUAL else "clear" for c in windows}
    judgements = session.scalars(select(DualTrackJudgement).where(DualTrackJudgement.day == DAY)).all()
    assert {j.method for j in judgements} == {Method.VISITS.value}
    for judgement in judgements:
        assert judgement.baseline_source == "history" and judgement.baseline_days == HISTORY
        assert judgement.baseline_share < 0.15  # long visits without a case: rare on a recorded window
        assert sum(v for _h, v, _c in judgement.hours if v is not None) == judgement.visits
    flagged = [j for j in judgements if j.outcome == "flagged"]
    signals = session.scalars(select(Signal)).all()
    assert sorted(s.id for s in signals) == sorted(j.signal_id for j in flagged)
    assert all("办理时长来访" in (s.reason or "") for s in signals)


def test_an_hour_from_an_older_agent_falls_back_to_the_counts(
    client: TestClient, world: World, session: Session, windows: dict[str, Window]
) -> None:
    rng = np.random.default_rng(5)
    upload_visits(client, world, windows["W01"], DAY, generate_visits(rng, visits=110, enquiry=0.2))
    older = visitors(hour_start(DAY, 18), 3, window="W01")  # no spans: counted, not listed
    assert upload(client, world.headers["EDGE-P"], older)["results"][0]["outcome"] == "stored"
    upload_visits(client, world, windows["W02"], DAY, generate_visits(rng, visits=110, enquiry=0.2))
    session.commit()
    assert judge(session, DAY)
    methods = dict(session.execute(select(DualTrackJudgement.window_id, DualTrackJudgement.method)).all())
    assert methods == {windows["W01"].id: "counts", windows["W02"].id: "visits"}


def test_each_method_reads_only_its_own_history(
    client: TestClient, world: World, session: Session, windows: dict[str, Window]
) -> None:
    """A window whose agent starts reporting visits is judged against the allowance until it has
    days of its own under the new method; the counts method's days do not make its baseline."""
    rng = np.random.default_rng(11)
    window = windows["W01"]
    for back in range(HISTORY, 0, -1):
        day = DAY - timedelta(days=back)
        hours = [(h, 25, 22) for h in (9, 10, 11, 14, 15, 16)]
        write_day(client, world, session, window, day, hours)
        assert judge(session, day)
    write_visit_day(client, world, session, window, DAY, generate_visits(rng, visits=110, enquiry=0.2))
    assert judge(session, DAY)
    judgement = session.scalars(select(DualTrackJudgement).where(DualTrackJudgement.day == DAY)).one()
    assert (judgement.method, judgement.baseline_source, judgement.baseline_days) == (
        "visits",
        "allowance",
        0,
    )
    assert judgement.baseline_share == 0.15
