"""Patrol compliance (issue 15 item 5): per supervising body and working day, the patrols its plan
required against those done — a task is done when a patrol of it is complete (proof of viewing); an
incomplete or unplanned patrol does not count toward the quota.

After a day has ended (and its patrols have had `DAY_END_GRACE` to be judged), `check_compliance`
raises one `PatrolShortfall` for each body short of its quota, audited; the patrol job runs it and
catches up on days it missed. `compliance_month` is the monthly table (page, API and exports).
"""

from __future__ import annotations

import calendar as month_days
import logging
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.core.clock import shanghai_date
from central.patrols.models import PatrolPlan, PatrolSession, PatrolShortfall, PatrolTask
from central.patrols.schemas import BodyCompliance, ComplianceMonth
from central.patrols.sessions import PATROLS_ACTOR, State
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.registry.models import Region

logger = logging.getLogger(__name__)

DAY_END_GRACE = timedelta(hours=1)  # after midnight: the day's last patrols are judged by then
MAX_DAYS_PER_RUN = 31  # a catch-up after a long outage goes a month per run


def day_counts(
    session: Session, *, start: date, end: date, body_ids: frozenset[int] | None = None
) -> list[tuple[int, date, int, int]]:
    """(body region id, day, required, done) for every body with tasks between `start` and `end`."""
    complete = select(PatrolSession.task_id).where(
        PatrolSession.state == State.COMPLETE, PatrolSession.task_id.is_not(None)
    )
    query = (
        select(
            PatrolTask.body_region_id,
            PatrolTask.day,
            func.count(PatrolTask.id),
            func.sum(case((PatrolTask.id.in_(complete), 1), else_=0)),
        )
        .where(PatrolTask.day >= start, PatrolTask.day <= end)
        .group_by(PatrolTask.body_region_id, PatrolTask.day)
    )
    if body_ids is not None:
        query = query.where(PatrolTask.body_region_id.in_(sorted(body_ids)))
    return [
        (body, day, int(required), int(done or 0)) for body, day, required, done in session.execute(query)
    ]


def check_compliance(session: Session, *, now: datetime) -> int:
    """Raise the shortfalls of every planned day that has ended and was not checked yet; how many.
    Commits each day (locked and skipped: another instance checking at once takes the others)."""
    last_day = shanghai_date(now - DAY_END_GRACE) - timedelta(days=1)
    raised = 0
    plans = session.scalars(
        select(PatrolPlan)
        .where(PatrolPlan.compliance_checked_at.is_(None), PatrolPlan.day <= last_day)
        .order_by(PatrolPlan.day)
        .limit(MAX_DAYS_PER_RUN)
        .with_for_update(skip_locked=True)
    ).all()
    for plan in plans:
        for body_id, day, required, done in day_counts(session, start=plan.day, end=plan.day):
            if done >= required:
                continue
            shortfall = PatrolShortfall(
                body_region_id=body_id, day=day, required=required, done=done, raised_at=now
            )
            session.add(shortfall)
            session.flush()
            record(
                session,
                actor=PATROLS_ACTOR,
                action="patrol.shortfall.raise",
                target_type="patrol_shortfall",
                target_id=str(shortfall.id),
                after={"body_region_id": body_id, "day": day.isoformat(), "required": required, "done": done},
                at=now,
            )
            raised += 1
        plan.compliance_checked_at = now
        session.commit()
        logger.info("patrol compliance of %s checked", plan.day.isoformat())
    return raised


def month_span(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    return first, first.replace(day=month_days.monthrange(first.year, first.month)[1])


def compliance_month(session: Session, *, month: date, within: Jurisdiction, today: date) -> ComplianceMonth:
    """Per body of the jurisdiction: the month's required and done patrols and the days short."""
    start, end = month_span(month)
    body_ids = None if within.kind is ScopeKind.DEPLOYMENT else within.region_ids
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    short: dict[int, list[date]] = defaultdict(list)
    for body_id, day, required, done in day_counts(
        session, start=start, end=min(end, today), body_ids=body_ids
    ):
        totals[body_id][0] += required
        totals[body_id][1] += done
        if done < required and day < today:
            short[body_id].append(day)
    regions = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(sorted(totals))))}
    raised = {
        (s.body_region_id, s.day)
        for s in session.scalars(
            select(PatrolShortfall).where(PatrolShortfall.day >= start, PatrolShortfall.day <= end)
        )
    }
    bodies = [
        BodyCompliance(
            code=regions[body_id].code,
            name=regions[body_id].name,
            level=regions[body_id].level,
            required=required,
            done=done,
            rate=round(done / required, 4) if required else None,
            short_days=sorted(short[body_id]),
            shortfalls_raised=sum((body_id, d) in raised for d in short[body_id]),
        )
        for body_id, (required, done) in totals.items()
        if body_id in regions
    ]
    bodies.sort(key=lambda b: (b.code, b.name))
    return ComplianceMonth(month=start.strftime("%Y-%m"), until=min(end, today), bodies=bodies)
