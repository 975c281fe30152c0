"""The doctor's periodic-jobs check (central.ops.doctor.jobs_check) on each state a job's row can be
in: on time, never run, late, running now past its due time, failed last, and turned off (run from
cron: not looked at). The whole doctor through its CLI is in test_doctor.py."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from central.jobs.models import JobRun
from central.ops.doctor.jobs_check import check_jobs
from central.ops.report import Status
from tests.conftest import FakeClock

EXPECTED = {"signals": 300.0, "public-feed": 60.0, "scores": 600.0}


def _add(session: Session, name: str, **values: object) -> None:
    session.add(JobRun(name=name, **values))
    session.commit()


def test_every_job_on_time_is_ok(session: Session, clock: FakeClock) -> None:
    for name in EXPECTED:
        _add(session, name, finished_at=clock() - timedelta(seconds=30))
    check = check_jobs(session, now=clock(), expected=EXPECTED)
    assert check.status is Status.OK and "3 个任务均按时运行" in check.summary


def test_never_run_and_late_are_errors_a_running_pass_is_not(session: Session, clock: FakeClock) -> None:
    _add(session, "signals", finished_at=clock() - timedelta(hours=1))  # due every 5 minutes
    _add(session, "scores", finished_at=clock() - timedelta(hours=1),  # late, but a pass runs now
         started_at=clock() - timedelta(minutes=40), lease_until=clock() + timedelta(seconds=30))  # fmt: skip
    # public-feed: no row at all (nothing ever ran it)
    check = check_jobs(session, now=clock(), expected=EXPECTED)
    assert check.status is Status.ERROR
    assert [d.split(":")[0] for d in check.details] == ["public-feed", "signals"]
    assert "从未完成" in check.details[0] and "60 分钟前" in check.details[1]


def test_a_failed_last_pass_is_a_warning(session: Session, clock: FakeClock) -> None:
    for name in EXPECTED:
        _add(session, name, finished_at=clock() - timedelta(seconds=90))
    session.get_one(JobRun, "scores").failed_at = clock() - timedelta(seconds=10)
    session.commit()
    check = check_jobs(session, now=clock(), expected=EXPECTED)
    assert check.status is Status.WARNING and check.details[0].startswith("scores: 最近一次于")


def test_a_job_turned_off_is_not_looked_at(session: Session, clock: FakeClock) -> None:
    _add(session, "anomalies", finished_at=clock() - timedelta(days=30))  # now run from cron
    _add(session, "signals", finished_at=clock())
    check = check_jobs(session, now=clock(), expected={"signals": 300.0})
    assert check.status is Status.OK
