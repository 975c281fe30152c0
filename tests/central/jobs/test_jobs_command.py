"""`hallwatch jobs` (the periodic jobs in a process of their own, hallwatch-jobs.service) through the
real CLI in a subprocess, and `hallwatch serve` leaving them to it (HALLWATCH_SERVE_RUNS_JOBS=false)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from central.app import create_app
from central.core.config import Settings
from central.core.db import make_session_factory
from central.jobs.models import JobRun
from tests.conftest import FakeClock


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HALLWATCH_DATABASE_URL": settings.database_url,
        "HALLWATCH_PATROL_KEY_FILE": str(settings.patrol_key_file),
        **extra,
    }


def _finished(db: Engine) -> set[str]:
    with make_session_factory(db)() as session:
        return set(session.scalars(select(JobRun.name).where(JobRun.finished_at.is_not(None))))


def test_the_jobs_process_runs_each_pass_and_stops_on_sigterm(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    env = _env(
        settings, HALLWATCH_SIGNAL_INTERVAL_SECONDS="3600", HALLWATCH_PUBLIC_FEED_INTERVAL_SECONDS="60"
    )
    log = tmp_path / "jobs.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "central.cli", "jobs"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while _finished(db) != {"signals", "evidence-purge", "device-command-purge", "public-feed"}:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"no pass recorded: {_finished(db)}\n{log.read_text()}"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    text = log.read_text()
    assert "hallwatch jobs: signals 每 3600 秒" in text
    assert "signal SIGTERM: stopping after the pass in progress" in text
    assert re.search(r"job public-feed stopped after [1-9]\d* runs \(0 failed", text), text


def test_no_job_turned_on_is_refused(settings: Settings) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "central.cli", "jobs"],
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )  # the tests' environment turns every interval off
    assert done.returncode == 2
    assert "no periodic job is turned on" in done.stderr


def test_serve_leaves_the_jobs_to_the_jobs_process(db: Engine, settings: Settings, clock: FakeClock) -> None:
    served = settings.model_copy(update={"signal_interval_seconds": 3600, "serve_runs_jobs": False})
    app = create_app(served, engine=db, clock=clock)
    with TestClient(app):
        assert app.state.jobs.names == [] and not app.state.jobs.alive
    assert _finished(db) == set()
