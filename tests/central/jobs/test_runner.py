"""The one jobs runner (central.jobs): failures logged and retried, stop waits, and the app
factory's registration of every domain's jobs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from central.app import create_app, periodic_jobs
from central.audit.signing import SigningKeyError, generate_key
from central.core.clock import Clock
from central.core.config import Settings
from central.core.db import make_session_factory
from central.jobs.runner import Job, JobRunner
from tests.conftest import FakeClock


def _runner(jobs: list[Job], db: Engine, settings: Settings, clock: FakeClock) -> JobRunner:
    return JobRunner(jobs, factory=make_session_factory(db), clock=clock, settings=settings)


def _wait_for(condition: threading.Event | None, predicate: object = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not (condition.is_set() if condition else predicate()):  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_failing_job_is_logged_and_retried_and_the_others_still_run(
    db: Engine, settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    outcomes = iter([RuntimeError("database went away")])
    calls = {"flaky": 0, "steady": 0}

    def flaky(_factory: sessionmaker[Session], _clock: Clock, _settings: Settings) -> None:
        calls["flaky"] += 1
        outcome = next(outcomes, None)
        if outcome is not None:
            raise outcome

    def steady(_factory: sessionmaker[Session], _clock: Clock, _settings: Settings) -> None:
        calls["steady"] += 1

    runner = _runner([Job("flaky", 0.05, flaky), Job("steady", 0.05, steady)], db, settings, clock)
    runner.start()
    try:
        _wait_for(None, lambda: calls["flaky"] >= 2 and calls["steady"] >= 2)  # retried on its next tick
    finally:
        runner.stop()
    assert not runner.alive
    assert runner.stats("flaky").failures == 1 and runner.stats("steady").failures == 0
    assert "job flaky failed; retrying in 0.05 s" in caplog.text and "database went away" in caplog.text


def test_run_now_runs_a_job_by_hand_and_never_raises(
    db: Engine, settings: Settings, clock: FakeClock
) -> None:
    def broken(_factory: sessionmaker[Session], _clock: Clock, _settings: Settings) -> None:
        raise RuntimeError("no")

    runner = _runner([Job("broken", 300, broken)], db, settings, clock)
    stats = runner.run_now("broken")
    assert (stats.runs, stats.failures) == (1, 1)


def test_stop_waits_for_the_run_in_progress(db: Engine, settings: Settings, clock: FakeClock) -> None:
    started, finished = threading.Event(), threading.Event()

    def slow(_factory: sessionmaker[Session], _clock: Clock, _settings: Settings) -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    runner = _runner([Job("slow", 300, slow)], db, settings, clock)
    runner.start()
    _wait_for(started)
    runner.stop()
    assert finished.is_set() and not runner.alive
    assert runner.stats("slow").runs == 1  # the next run was 300 s away: stopping did not start it


def test_jobs_need_a_positive_interval_and_unique_names(
    db: Engine, settings: Settings, clock: FakeClock
) -> None:
    def nothing(_factory: sessionmaker[Session], _clock: Clock, _settings: Settings) -> None:
        return None

    with pytest.raises(ValueError, match="positive interval"):
        Job("zero", 0, nothing)
    with pytest.raises(ValueError, match="unique"):
        _runner([Job("twice", 1, nothing), Job("twice", 2, nothing)], db, settings, clock)


def test_no_jobs_no_thread(db: Engine, settings: Settings, clock: FakeClock) -> None:
    runner = _runner([], db, settings, clock)
    runner.start()
    assert not runner.alive
    runner.stop()


def test_the_app_factory_registers_each_domains_jobs(settings: Settings, tmp_path: Path) -> None:
    key = tmp_path / "audit.key"
    generate_key(key)
    assert periodic_jobs(settings) == []  # the tests' interval of 0 turns the periodic work off
    served = settings.model_copy(
        update={
            "signal_interval_seconds": 300,
            "audit_checkpoint_dir": tmp_path / "checkpoints",
            "audit_signing_key": key,
            "audit_checkpoint_interval_seconds": 3600,
            "patrol_key_file": tmp_path / "patrol.key",
            "patrol_plan_interval_seconds": 600,
        }
    )
    jobs = {job.name: job.interval for job in periodic_jobs(served)}
    assert jobs == {
        "signals": 300,
        "evidence-purge": 300,
        "device-command-purge": 300,
        "patrol-plan": 600,
        "audit-checkpoints": 3600,
    }


def test_serve_starts_and_stops_the_runner(db: Engine, settings: Settings, clock: FakeClock) -> None:
    served = settings.model_copy(update={"signal_interval_seconds": 3600})
    app = create_app(served, engine=db, clock=clock)
    with TestClient(app):
        runner = app.state.jobs
        assert runner.alive and runner.names == ["signals", "evidence-purge", "device-command-purge"]
    assert not runner.alive


def test_a_loose_signing_key_stops_the_app_from_being_built(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    key = tmp_path / "audit.key"
    generate_key(key)
    key.chmod(0o644)
    loose = settings.model_copy(
        update={"audit_checkpoint_dir": tmp_path / "checkpoints", "audit_signing_key": key}
    )
    with pytest.raises(SigningKeyError, match="readable by others"):
        create_app(loose, engine=db)
