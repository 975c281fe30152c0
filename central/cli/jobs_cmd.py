"""`hallwatch jobs`: the periodic jobs in a process of their own (hallwatch-jobs.service).

Every `hallwatch serve` runs them by default, each pass claimed by one instance (central.jobs.claims).
A province's instances set HALLWATCH_SERVE_RUNS_JOBS=false and run this instead: a signal pass over a
million cases or a month's scores then never takes CPU from the requests of halls and inspectors. Two
of these (one per host) are fine: each pass is still claimed by one.
"""

from __future__ import annotations

import logging

import typer
from sqlalchemy import make_url

from central.app import periodic_jobs
from central.audit.signing import SigningKeyError
from central.cli.common import console, fail, migrated_engine
from central.core.clock import system_clock
from central.core.config import Settings
from central.core.db import make_session_factory
from central.jobs.runner import JobRunner
from common.stopping import stop_on_signals

logger = logging.getLogger(__name__)


def jobs() -> None:
    """Run the periodic jobs (signals, scores, anomalies, the day's patrol plan, the hall screens' pass,
    evidence retention, audit checkpoints) against HALLWATCH_DATABASE_URL until stopped (SIGTERM, ^C)."""
    settings = Settings()
    try:
        planned = periodic_jobs(settings)
    except SigningKeyError as exc:
        raise fail(f"审计签名密钥不可用 audit signing key refused: {exc}") from exc
    if not planned:
        raise fail("没有启用的周期任务 no periodic job is turned on: every HALLWATCH_*_INTERVAL_SECONDS is 0")
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        logger.warning(
            "SQLite: `hallwatch serve` hears this process's changes to the hall screens only at its "
            "30 s re-read; on one machine, leave the jobs to serve (HALLWATCH_SERVE_RUNS_JOBS=true)"
        )
    engine = migrated_engine(settings)
    runner = JobRunner(planned, factory=make_session_factory(engine), clock=system_clock, settings=settings)
    stopping = stop_on_signals("stopping after the pass in progress")
    console.print(f"hallwatch jobs: {', '.join(f'{j.name} 每 {j.interval:g} 秒' for j in planned)}")
    runner.start()
    try:
        while not stopping.wait(1.0):
            if (
                not runner.alive
            ):  # the thread never dies of a job's error; this is a bug: let systemd restart us
                raise typer.Exit(1)
    finally:
        runner.stop()
        engine.dispose()
