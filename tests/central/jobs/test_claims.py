"""Claimed passes (central.jobs.claims): two instances' runners do a shared job's pass once, a restart
does not repeat a pass done a moment ago, a killed instance's claim lapses, and a pass that fails is
due again at once. Both databases: the claim is one UPDATE that must be atomic on each."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from central.core.clock import Clock
from central.core.config import Settings
from central.core.db import make_engine, make_session_factory
from central.jobs import claims as claims_module
from central.jobs.claims import Claimed, JobClaims, NotDue
from central.jobs.models import JobRun
from central.jobs.runner import Job, JobRunner
from tests.conftest import FakeClock

HOUR = 3600.0


class Counter:
    def __init__(self, pause: float = 0.0) -> None:
        self.calls = 0
        self.pause = pause
        self._lock = threading.Lock()

    def __call__(self, _factory: sessionmaker[Session], _clock: Clock, _settings: Settings) -> None:
        with self._lock:
            self.calls += 1
        time.sleep(self.pause)


def _runner(jobs: list[Job], db: Engine, settings: Settings, clock: FakeClock) -> JobRunner:
    return JobRunner(jobs, factory=make_session_factory(db), clock=clock, settings=settings)


def _wait_for(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _row(db: Engine, name: str) -> JobRun:
    with make_session_factory(db)() as session:
        row = session.scalar(select(JobRun).where(JobRun.name == name))
        assert row is not None
        return row


def _seed(db: Engine, **values: object) -> None:
    with make_session_factory(db)() as session:
        session.add(JobRun(**values))
        session.commit()


def test_two_instances_do_a_shared_pass_once(db: Engine, settings: Settings, clock: FakeClock) -> None:
    work = Counter(pause=0.2)  # the second runner looks while the first still runs
    runners = [_runner([Job("signals", HOUR, work)], db, settings, clock) for _ in range(2)]
    for runner in runners:
        runner.start()
    try:
        _wait_for(lambda: sum(r.stats("signals").runs + r.stats("signals").skipped for r in runners) == 2)
    finally:
        for runner in runners:
            runner.stop()
    assert work.calls == 1
    assert sorted(r.stats("signals").skipped for r in runners) == [0, 1]
    row = _row(db, "signals")
    assert row.finished_at is not None and row.lease_until is None and row.failed_at is None


def test_a_restarted_instance_leaves_a_pass_done_lately_and_catches_up_an_old_one(
    db: Engine, settings: Settings, clock: FakeClock
) -> None:
    now = datetime.now(UTC)
    _seed(db, name="scores", finished_at=now - timedelta(minutes=5))  # another instance, 5 min ago
    _seed(db, name="anomalies", finished_at=now - timedelta(hours=3))  # all were down for hours
    scores, anomalies = Counter(), Counter()
    runner = _runner([Job("scores", HOUR, scores), Job("anomalies", HOUR, anomalies)], db, settings, clock)
    runner.start()
    try:
        _wait_for(lambda: runner.stats("scores").skipped == 1 and runner.stats("anomalies").runs == 1)
    finally:
        runner.stop()
    assert (scores.calls, anomalies.calls) == (0, 1)


def test_a_killed_instances_claim_lapses_and_a_live_one_is_waited_for(db: Engine) -> None:
    now = datetime.now(UTC)
    _seed(db, name="dead", runner="host:1", token="a" * 32, started_at=now - timedelta(minutes=5),
          lease_until=now - timedelta(seconds=1))  # fmt: skip
    _seed(
        db,
        name="busy",
        runner="host:2",
        token="b" * 32,
        started_at=now,
        lease_until=now + timedelta(seconds=40),
    )
    claims = JobClaims(make_session_factory(db), runner="host:3")
    assert isinstance(claims.claim("dead", interval=60), Claimed)
    waiting = claims.claim("busy", interval=60)
    assert isinstance(waiting, NotDue) and waiting.due_at == _row(db, "busy").lease_until
    assert _row(db, "dead").runner == "host:3"


def test_a_failed_pass_is_due_again_at_once_and_a_late_finish_changes_nothing(db: Engine) -> None:
    now = [datetime(2026, 12, 7, 2, 0, tzinfo=UTC)]
    claims = JobClaims(make_session_factory(db), runner="host:1", now=lambda: now[0])
    first = claims.claim("feed", interval=60)
    assert isinstance(first, Claimed)
    claims.finish("feed", first.token, succeeded=False)
    row = _row(db, "feed")
    assert row.failed_at == now[0] and row.finished_at is None and row.lease_until is None
    retry = claims.claim("feed", interval=60)
    assert isinstance(retry, Claimed)
    now[0] += timedelta(seconds=claims_module.LEASE_SECONDS + 1)  # its instance froze past the lease
    takeover = claims.claim("feed", interval=60)
    assert isinstance(takeover, Claimed)
    claims.finish("feed", retry.token, succeeded=True)  # the frozen one wakes: the row is not its own
    assert _row(db, "feed").finished_at is None and _row(db, "feed").token == takeover.token
    claims.finish("feed", takeover.token, succeeded=True)
    assert _row(db, "feed").finished_at == now[0]
    not_due = claims.claim("feed", interval=60)
    assert isinstance(not_due, NotDue) and not_due.due_at == now[0] + timedelta(seconds=60)


def test_a_long_pass_keeps_renewing_its_lease(
    db: Engine, settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claims_module, "RENEW_SECONDS", 0.05)
    leases: list[datetime | None] = []

    def long_pass(_factory: sessionmaker[Session], _clock: Clock, _settings: Settings) -> None:
        for _ in range(4):
            time.sleep(0.15)
            leases.append(_row(db, "long").lease_until)

    runner = _runner([Job("long", HOUR, long_pass)], db, settings, clock)
    runner.start()
    try:
        _wait_for(lambda: runner.stats("long").runs == 1 and _row(db, "long").finished_at is not None)
    finally:
        runner.stop()
    held = [lease for lease in leases if lease is not None]
    assert len(held) == 4 and held == sorted(held) and held[0] < held[-1]  # renewed while it ran


def test_an_instances_own_job_runs_on_every_instance(
    db: Engine, settings: Settings, clock: FakeClock
) -> None:
    work = Counter()
    runners = [
        _runner([Job("audit-checkpoints", HOUR, work, shared=False)], db, settings, clock) for _ in range(2)
    ]
    for runner in runners:
        runner.start()
    try:
        _wait_for(lambda: work.calls == 2)
    finally:
        for runner in runners:
            runner.stop()
    with make_session_factory(db)() as session:
        assert session.scalar(select(JobRun)) is None  # nothing to claim


def test_no_database_no_pass_and_a_warning(
    settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    away = make_engine("postgresql://postgres@127.0.0.1:9/none")  # nothing listens on port 9
    work = Counter()
    runner = JobRunner(
        [Job("signals", HOUR, work)], factory=make_session_factory(away), clock=clock, settings=settings
    )
    runner.start()
    try:
        _wait_for(lambda: "could not claim job signals" in caplog.text)
    finally:
        runner.stop()
    assert work.calls == 0
