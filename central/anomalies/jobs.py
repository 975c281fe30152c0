"""Data supervision's rules as a periodic job (`central.jobs`), registered by the app factory: `serve`
runs them at start-up and every `settings.anomaly_interval_seconds`, over the last
`settings.anomaly_days` days through yesterday. Safe beside other instances: hits are keyed, so a
second instance's pass stores nothing twice (see `central.anomalies.run`)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from central.anomalies.run import RunReport, run_anomalies
from central.calendar.service import load_calendar
from central.core.actor import Actor
from central.core.clock import Clock, shanghai_date
from central.core.config import Settings
from central.jobs.runner import Job, instance_name

logger = logging.getLogger(__name__)

ANOMALIES_JOB = "anomalies"
ANOMALIES_ACTOR = Actor(kind="system", name="anomalies")


def default_period(now: datetime, days: int) -> tuple[date, date]:
    """The `days` days through yesterday (Shanghai): today's cases are not all in yet."""
    last = shanghai_date(now) - timedelta(days=1)
    return last - timedelta(days=days - 1), last


def run_pass(session: Session, *, now: datetime, settings: Settings, instance: str) -> RunReport:
    first, last = default_period(now, settings.anomaly_days)
    return run_anomalies(
        session,
        period_from=first,
        period_to=last,
        now=now,
        calendar=load_calendar(session),
        default_profile_key=settings.rule_profile,
        instance=instance,
        actor=ANOMALIES_ACTOR,
    )


def anomalies_job(*, interval: float) -> Job:
    instance = instance_name()

    def run(factory: sessionmaker[Session], clock: Clock, settings: Settings) -> None:
        with factory() as session:
            run_pass(session, now=clock(), settings=settings, instance=instance)

    return Job(ANOMALIES_JOB, interval, run)
