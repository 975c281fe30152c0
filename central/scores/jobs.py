"""The daily scores pass as a periodic job (`central.jobs`), registered by the app factory: `serve`
runs it at start-up and every `settings.score_interval_seconds`. Safe beside other instances (see
`central.scores.daily`)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from central.core.clock import Clock
from central.core.config import Settings
from central.jobs.runner import Job, instance_name
from central.scores.daily import MonthClosed, run_scores

logger = logging.getLogger(__name__)

SCORES_JOB = "scores"


def scores_job(*, interval: float, on_month_closed: MonthClosed | None = None) -> Job:
    """One pass in a fresh session; `on_month_closed` (the monthly reports, wired by the app: reports
    sit beside scores, not below) runs for each month the pass closes."""
    instance = instance_name()

    def run(factory: sessionmaker[Session], clock: Clock, settings: Settings) -> None:
        with factory() as session:
            run_scores(
                session,
                now=clock(),
                default_profile_key=settings.rule_profile,
                instance=instance,
                delay=timedelta(minutes=settings.score_delay_minutes),
                close_working_day=settings.score_month_close_working_day,
                on_month_closed=on_month_closed,
            )

    return Job(SCORES_JOB, interval, run)
