"""The scores pass run the ways a deployment runs it: two central instances at once, the job inside
`serve`, the CLI (pass and recompute), and a calendar year missing."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.audit.verify import verify
from central.core.config import Settings
from central.core.db import make_session_factory
from central.ratings.models import Rating
from central.scores.daily import PassReport, run_scores
from central.scores.models import ScoreDay, ScoreLine, ScoreRun
from tests.central.scores.world import World, at, build_world
from tests.conftest import FakeClock

NOW = at(date(2026, 11, 12), 10)


def _world(session: Session, registry: dict[str, int]) -> World:
    world = build_world(session, registry)
    case = world.case(staff=world.s001, window=world.w01)
    world.signal(reason="light_yellow", colour="yellow", day=date(2026, 11, 3), case=case)
    session.commit()
    return world


def _pass(session: Session, name: str) -> PassReport:
    return run_scores(
        session,
        now=NOW,
        default_profile_key="sichuan-2011",
        instance=name,
        delay=timedelta(hours=1),
        close_working_day=5,
    )


def test_two_instances_at_once_score_each_day_once(
    db: Engine, session: Session, registry: dict[str, int]
) -> None:
    _world(session, registry)
    barrier = threading.Barrier(2)
    reports: list[PassReport] = []
    failures: list[BaseException] = []

    def instance(name: str) -> None:
        with make_session_factory(db)() as own:
            barrier.wait()
            try:
                reports.append(_pass(own, name))
            except BaseException as exc:  # reported below: a failure must not hide in a thread
                failures.append(exc)

    threads = [threading.Thread(target=instance, args=(f"central-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert failures == [] and len(reports) == 2
    days = (date(2026, 11, 11) - date(2026, 10, 1)).days + 1
    assert sum(run.computed for report in reports for run in report.days) == days
    assert session.scalar(select(func.count(ScoreRun.id))) == days
    per_subject_day = session.execute(
        select(ScoreDay.subject_kind, ScoreDay.subject_id, ScoreDay.day, func.count())
        .group_by(ScoreDay.subject_kind, ScoreDay.subject_id, ScoreDay.day)
        .having(func.count() > 1)
    ).all()
    assert per_subject_day == []
    assert verify(session).ok


def test_serve_scores_in_the_background(db: Engine, session: Session, registry: dict[str, int]) -> None:
    _world(session, registry)
    clock = FakeClock(NOW)
    settings = Settings(
        database_url=db.url.render_as_string(hide_password=False), score_interval_seconds=3600
    )
    with TestClient(create_app(settings, engine=db, clock=clock)) as served:
        jobs = served.app.state.jobs  # type: ignore[attr-defined]
        deadline = time.monotonic() + 120
        while jobs.stats("scores").runs == 0:
            assert time.monotonic() < deadline, "the first scores pass did not happen"
            time.sleep(0.05)
    assert jobs.stats("scores").failures == 0
    assert session.scalar(select(func.max(ScoreRun.day))) == date(2026, 11, 11)


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"HALLWATCH_DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin", "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "central.cli", "scores", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_cli_scores_through_a_day_and_recomputes_by_hand(
    settings: Settings, session: Session, registry: dict[str, int]
) -> None:
    _world(session, registry)
    done = _cli(settings, "run", "--date", "2026-10-03")
    assert done.returncode == 0, done.stderr
    assert "2026-10-03" in done.stdout and "2026-10-04" not in done.stdout
    future = _cli(settings, "run", "--date", "2099-01-01")
    assert future.returncode == 2 and "has not ended" in future.stderr
    not_yet = _cli(settings, "recompute", "--from", "2026-10-20", "--reason", "核对")
    assert not_yet.returncode == 2 and "not scored yet" in not_yet.stderr
    again = _cli(settings, "recompute", "--from", "2026-10-02", "--reason", "核对数据")
    assert again.returncode == 0, again.stderr
    assert "0 subject-day(s) changed" in again.stdout  # nothing changed: no new rows
    assert session.scalar(select(func.count(ScoreDay.id)).where(ScoreDay.current.is_(False))) == 0


def test_an_absence_confirmed_days_later_counts_on_the_day_it_was_confirmed(
    session: Session, registry: dict[str, int]
) -> None:
    """Its own day was scored before anyone reviewed it: counting it there would lose it."""
    world = build_world(session, registry)
    world.absence(window=world.w01, day=date(2026, 11, 5), reviewed=date(2026, 11, 9))
    session.commit()
    _pass(session, "central-1")
    found = session.execute(
        select(ScoreDay.day, ScoreLine.rule_code)
        .join(ScoreLine, ScoreLine.score_day_id == ScoreDay.id)
        .where(ScoreDay.subject_kind == "staff", ScoreDay.subject_id == world.s001)
    ).all()
    assert [(day, code) for day, code in found] == [(date(2026, 11, 9), "confirmed_absence")]


def test_ratings_that_arrive_after_their_day_was_scored_recompute_it(
    session: Session, registry: dict[str, int]
) -> None:
    """An edge agent back from a drop drains its outbox: yesterday's ratings reach central today."""
    world = build_world(session, registry)
    session.commit()
    _pass(session, "central-1")
    day = date(2026, 11, 10)
    for level in (1, 1, 1, 1, 1):
        rating = world.rating(level=level, day=day, staff=world.s001, window=world.w01)
        session.get_one(Rating, rating).updated_at = NOW + timedelta(hours=2)  # received now
    session.commit()
    later = NOW + timedelta(hours=3)
    run_scores(
        session,
        now=later,
        default_profile_key="sichuan-2011",
        instance="central-1",
        delay=timedelta(hours=1),
        close_working_day=5,
    )
    clerk = session.scalars(
        select(ScoreDay).where(
            ScoreDay.subject_kind == "staff",
            ScoreDay.subject_id == world.s001,
            ScoreDay.day == day,
            ScoreDay.current.is_(True),
        )
    ).one()
    assert clerk.revision == 2 and clerk.month_score == 90  # 好评率 0: 满意度 −10
    assert clerk.superseded_reason is None
    earlier = session.scalars(
        select(ScoreDay).where(
            ScoreDay.subject_kind == "staff",
            ScoreDay.subject_id == world.s001,
            ScoreDay.day == day,
            ScoreDay.current.is_(False),
        )
    ).one()
    assert earlier.superseded_reason is not None and "迟到数据" in earlier.superseded_reason
    # Once corrected, the next pass books nothing more.
    again = run_scores(
        session,
        now=later + timedelta(minutes=10),
        default_profile_key="sichuan-2011",
        instance="central-1",
        delay=timedelta(hours=1),
        close_working_day=5,
    )
    assert again.corrections == 0
