"""The day's patrol plan published early (`central.jobs`), so inspectors find it waiting and the
day's compliance counts from a plan that exists even if nobody opened the page; and the patrols to
settle (`central.patrols.viewing.settle_patrols`): left open, or waiting too long for the edge; and
the ended days' compliance (`central.patrols.compliance.check_compliance`).

Safe with several instances: the day's plan is one unique row (`central.patrols.service`). A day
off, a year missing from the calendar or no draw key is logged, not raised: the next tick tries
again and the page says why.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from central.core.clock import Clock
from central.core.config import Settings
from central.jobs.runner import Job
from central.patrols.compliance import check_compliance
from central.patrols.service import PlanRefused, plan_by_settings
from central.patrols.viewing import settle_patrols

logger = logging.getLogger(__name__)

PATROL_PLAN_JOB = "patrol-plan"


def patrol_plan_job(*, interval: float) -> Job:
    """Every `interval` seconds (settings.patrol_plan_interval_seconds): today's plan, if not yet, and
    the patrols to settle."""

    def run(factory: sessionmaker[Session], clock: Clock, settings: Settings) -> None:
        with factory() as session:
            try:
                plan_by_settings(session, settings=settings, now=clock())
            except PlanRefused as refused:
                logger.warning("today's patrol plan cannot be published: %s", refused)
        with factory() as session:
            settled = settle_patrols(session, now=clock(), default_profile_key=settings.rule_profile)
            if settled:
                logger.info("%d patrol(s) settled", settled)
            raised = check_compliance(session, now=clock())
            if raised:
                logger.warning("%d supervising body(ies) short of the patrol quota", raised)

    return Job(PATROL_PLAN_JOB, interval, run)
