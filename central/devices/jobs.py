"""Expired device commands purged (`central.jobs`): a live view's offer carries up to 20 kB of SDP and
a busy hall queues thousands of prompts a day; once expired, nothing reads them (the agents skip
them, the audit trail holds what was asked). Registered by the app factory on the signal pass's beat.

Each hall's newest command is kept, whatever its age: the agents' cursor is a command id, and SQLite
(no AUTOINCREMENT) would hand the next command the id after the largest left — deleting the largest
could give a new command an id an agent's cursor has already passed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from central.core.clock import Clock
from central.core.config import Settings
from central.devices.models import DeviceCommand
from central.jobs.runner import Job

logger = logging.getLogger(__name__)

COMMAND_PURGE_JOB = "device-command-purge"
KEEP_AFTER_EXPIRY = timedelta(days=1)  # a day to look at what was sent, when an agent is debugged


def purge_expired_commands(session: Session, *, now: datetime) -> int:
    """Delete commands expired more than a day ago, except each hall's newest; answers how many."""
    newest = select(func.max(DeviceCommand.id)).group_by(DeviceCommand.hall_id)
    result = session.execute(
        delete(DeviceCommand).where(
            DeviceCommand.expires_at < now - KEEP_AFTER_EXPIRY, DeviceCommand.id.not_in(newest)
        )
    )
    purged = int(getattr(result, "rowcount", 0) or 0)
    if purged:
        logger.info("purged %d expired device command(s)", purged)
    return purged


def command_purge_job(*, interval: float) -> Job:
    def run(factory: sessionmaker[Session], clock: Clock, _settings: Settings) -> None:
        with factory() as session:
            purge_expired_commands(session, now=clock())
            session.commit()

    return Job(COMMAND_PURGE_JOB, interval, run)
