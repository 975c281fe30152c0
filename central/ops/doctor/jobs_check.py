"""Are the periodic jobs running? Signals (SZ-10..12), the day's patrol plan, scores, the hall screens'
catch-up pass and the rest are passes that some central process runs every interval: each `hallwatch
serve` unless HALLWATCH_SERVE_RUNS_JOBS is off, and `hallwatch jobs`. Nothing else complains when none
runs them (a deployment whose instances all have them off and no jobs process looks healthy), so the
doctor reads each job's latest pass from `job_runs` (central.jobs.claims) against its interval in this
deployment's settings. A job whose interval is 0 is run from cron instead and not looked at."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.jobs.claims import LEASE_SECONDS
from central.jobs.models import JobRun
from central.ops.report import Check, Status, age, local_time

logger = logging.getLogger(__name__)

TITLE = "周期任务 periodic jobs"
LATE_INTERVALS = 2  # a pass may be this many intervals late (a slow pass, a restart) before it counts
HINT = (
    "确认至少有一个进程在跑周期任务: `hallwatch jobs` (hallwatch-jobs.service), 或未设 HALLWATCH_SERVE_RUNS_JOBS=false 的 "
    "`hallwatch serve`; 查看其日志中的 'job … failed' — make sure some process runs the periodic jobs (`hallwatch jobs`, "
    "or a `hallwatch serve` without HALLWATCH_SERVE_RUNS_JOBS=false) and read its log for 'job … failed'"
)


def check_jobs(session: Session, *, now: datetime, expected: Mapping[str, float]) -> Check:
    """`expected`: the shared jobs this deployment's settings turn on, each with its interval (s)."""
    rows = {row.name: row for row in session.scalars(select(JobRun).where(JobRun.name.in_(list(expected))))}
    late, failed = [], []
    for name, interval in sorted(expected.items()):
        row = rows.get(name)
        if row is None or row.finished_at is None:
            if row is None or not _running(row, now):
                late.append(f"{name}: 从未完成 never finished a pass (每 every {interval:g} 秒 s)")
            continue
        overdue = now - row.finished_at > timedelta(seconds=LATE_INTERVALS * interval + LEASE_SECONDS)
        if overdue and not _running(row, now):
            late.append(
                f"{name}: 上次完成于 last finished {local_time(row.finished_at)} ({age(now - row.finished_at)}前 ago), "
                f"应每 {interval:g} 秒一次 due every {interval:g} s"
            )
        if row.failed_at is not None and row.failed_at > row.finished_at:
            failed.append(f"{name}: 最近一次于 {local_time(row.failed_at)} 失败 its last pass failed")
    if late:
        summary = f"{len(late)} 个任务未按时运行 — {len(late)} job(s) not run on time"
        return Check("periodic_jobs", TITLE, Status.ERROR, summary, tuple(late + failed), HINT)
    if failed:
        summary = f"{len(failed)} 个任务最近一次失败 — {len(failed)} job(s) failed their last pass"
        return Check("periodic_jobs", TITLE, Status.WARNING, summary, tuple(failed), HINT)
    summary = f"{len(expected)} 个任务均按时运行 — {len(expected)} job(s) on time"
    return Check("periodic_jobs", TITLE, Status.OK, summary)


def _running(row: JobRun, now: datetime) -> bool:
    return row.lease_until is not None and row.lease_until > now
