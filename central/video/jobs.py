"""Evidence retention (SC-18) as a periodic job (`central.jobs`), registered by the app factory on
the signal pass's beat, as before (`settings.signal_interval_seconds`)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from central.core.clock import Clock
from central.core.config import Settings
from central.jobs.runner import Job
from central.video.evidence import purge_expired_evidence

logger = logging.getLogger(__name__)

EVIDENCE_PURGE_JOB = "evidence-purge"


def evidence_purge_job(*, interval: float) -> Job:
    """Delete the images of snapshots past their retention, in a session of its own."""

    def run(factory: sessionmaker[Session], clock: Clock, _settings: Settings) -> None:
        with factory() as session:
            purge_expired_evidence(session, now=clock())
            session.commit()

    return Job(EVIDENCE_PURGE_JOB, interval, run)
