"""All the doctor's checks, in order; later checks are skipped when the database cannot be read."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import make_url

from central.core.config import Settings
from central.core.db import make_session_factory
from central.ops.doctor.audit_check import TITLE as AUDIT_TITLE
from central.ops.doctor.audit_check import check_checkpoints
from central.ops.doctor.calendar_check import TITLE as CALENDAR_TITLE
from central.ops.doctor.calendar_check import check_calendar
from central.ops.doctor.database import MIGRATED, check_migrated, open_engine
from central.ops.doctor.devices_check import DEVICES_TITLE, SKEW_TITLE, check_clocks, check_devices
from central.ops.doctor.jobs_check import TITLE as JOBS_TITLE
from central.ops.doctor.jobs_check import check_jobs
from central.ops.doctor.limits import DoctorLimits
from central.ops.doctor.outbox_check import OUTBOX_TITLE, check_outboxes
from central.ops.report import Check, Status, skipped

logger = logging.getLogger(__name__)

# after the audit checkpoints
CHECK_LAST = [
    ("clock_skew", SKEW_TITLE),
    ("devices", DEVICES_TITLE),
    ("edge_outbox", OUTBOX_TITLE),
    ("periodic_jobs", JOBS_TITLE),
]


def run_checks(
    settings: Settings, *, now: datetime, limits: DoctorLimits, jobs: Mapping[str, float]
) -> list[Check]:
    """`jobs`: the shared periodic jobs the settings turn on, with their intervals (central.app)."""
    production = make_url(settings.database_url).get_backend_name() == "postgresql"
    engine, reachable = open_engine(settings.database_url)
    checks = [reachable]
    if engine is None:
        reason = "数据库不可达 database unreachable"
        checks.append(skipped("migrations", MIGRATED, reason))
        checks.append(skipped("calendar", CALENDAR_TITLE, reason))
        checks.append(check_checkpoints(settings, None, now=now, limits=limits, production=production))
        checks.extend(skipped(name, title, reason) for name, title in CHECK_LAST)
        return checks
    try:
        with engine.connect() as connection:
            migrated = check_migrated(connection)
        checks.append(migrated)
        if migrated.status is not Status.OK:
            reason = "先迁移数据库 migrate the database first"
            checks.append(skipped("calendar", CALENDAR_TITLE, reason))
            checks.append(skipped("audit_checkpoints", AUDIT_TITLE, reason))
            checks.extend(skipped(name, title, reason) for name, title in CHECK_LAST)
            return checks
        with make_session_factory(engine)() as session:
            checks.append(check_calendar(session, now=now, limits=limits))
            checks.append(check_checkpoints(settings, session, now=now, limits=limits, production=production))
            checks.append(check_clocks(session, limits=limits))
            checks.append(check_devices(session, now=now, limits=limits))
            checks.append(check_outboxes(session))
            checks.append(check_jobs(session, now=now, expected=jobs))
    finally:
        engine.dispose()
    logger.info("doctor: %s", ", ".join(f"{c.name} {c.status.value}" for c in checks))
    return checks
