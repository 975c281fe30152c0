"""Signed audit checkpoints as a periodic job (`central.jobs`), registered by the app factory.

When the checkpoint directory and the signing key are both set and the interval is above 0, `serve`
signs the head once at start-up and then every `audit_checkpoint_interval_seconds`. The key is read
when the job is built (by the app factory), so a missing or loose key stops `serve` with a clear
message instead of failing silently later.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from central.audit.checkpoint import write_checkpoint
from central.audit.signing import load_private_key
from central.core.clock import Clock
from central.core.config import Settings
from central.jobs.runner import Job

logger = logging.getLogger(__name__)

CHECKPOINT_JOB = "audit-checkpoints"


def checkpoint_job(settings: Settings) -> Job | None:
    """The job, or None when checkpoints are not configured. Raises SigningKeyError on a bad key."""
    directory, interval = settings.audit_checkpoint_dir, settings.audit_checkpoint_interval_seconds
    if directory is None or settings.audit_signing_key is None or interval <= 0:
        return None
    key = load_private_key(settings.audit_signing_key)
    lock = threading.Lock()  # the thread's run and a manual one never sign the same head twice

    def run(factory: sessionmaker[Session], clock: Clock, _settings: Settings) -> None:
        with lock, factory() as session:
            write_checkpoint(session, key=key, directory=directory, now=clock())

    return Job(CHECKPOINT_JOB, interval, run, shared=False)  # each instance signs into its own directory
