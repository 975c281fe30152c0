"""The signal pass as a periodic job (`central.jobs`), registered by the app factory.

`serve` runs it at start-up and then every `settings.signal_interval_seconds` (0: not registered).
Safe beside other central instances running it too (see `central.signals.scheduler`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from central.calendar.service import load_calendar
from central.core.clock import Clock
from central.core.config import Settings
from central.jobs.runner import Job, instance_name
from central.signals.scheduler import SignalSource, run_signals

logger = logging.getLogger(__name__)

SIGNALS_JOB = "signals"


def signals_job(*, interval: float, sources: Mapping[str, SignalSource]) -> Job:
    """One pass in a fresh session, with the app's clock and the calendar as it is now; `sources`
    are the other domains' signals computed in the same transaction (overdue follow-ups)."""
    instance = instance_name()

    def run(factory: sessionmaker[Session], clock: Clock, settings: Settings) -> None:
        with factory() as session:
            run_signals(
                session,
                now=clock(),
                calendar=load_calendar(session),
                default_profile=settings.rule_profile,
                instance=instance,
                sources=sources,
            )

    return Job(SIGNALS_JOB, interval, run)
