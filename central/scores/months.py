"""Closing a month's scores (QTH-3: the month's total is generated, never typed in): on the configured
working day of the next month, once every day of the month is scored, the month is closed — its
figures change after that only through an approval (`central.scores.corrections`) — and its monthly
report is generated (the caller's hook)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.core.actor import Actor
from central.core.clock import shanghai_date
from central.core.db import conflict_insert
from central.scores.lines import month_of
from central.scores.models import ScoreMonth, ScoreRun
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of 'YYYY-MM'."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    next_first = (first + timedelta(days=32)).replace(day=1)
    return first, next_first - timedelta(days=1)


def close_day(month: str, *, calendar: WorkCalendar, working_day: int) -> date:
    """The `working_day`-th working day of the month after `month`."""
    _first, last = month_bounds(month)
    day, seen = last, 0
    while seen < working_day:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            seen += 1
    return day


def is_closed(session: Session, month: str) -> bool:
    return session.scalar(select(ScoreMonth.id).where(ScoreMonth.month == month)) is not None


def close_months(
    session: Session, *, now: datetime, calendar: WorkCalendar, close_working_day: int, actor: Actor
) -> list[str]:
    """Close every scored month whose close day has come and whose days are all scored; commits.
    Answers the months this call closed (another instance's closing is not repeated)."""
    today = shanghai_date(now)
    scored = session.execute(select(func.min(ScoreRun.day), func.max(ScoreRun.day))).one()
    if scored[0] is None:
        return []
    closed_months = set(session.scalars(select(ScoreMonth.month)))
    month, closed = month_of(scored[0]), []
    while month < month_of(today):
        first, last = month_bounds(month)
        try:
            due = close_day(month, calendar=calendar, working_day=close_working_day)
        except CalendarMissingError:
            break
        ready = month not in closed_months and today >= due and _all_scored(session, first, last)
        if ready and _insert_month(session, month=month, now=now, actor=actor):
            closed.append(month)
        month = month_of(last + timedelta(days=1))
    session.commit()
    return closed


def _all_scored(session: Session, first: date, last: date) -> bool:
    count = session.scalar(select(func.count(ScoreRun.id)).where(ScoreRun.day >= first, ScoreRun.day <= last))
    return count == (last - first).days + 1 or _started_inside(session, first, last, count or 0)


def _started_inside(session: Session, first: date, last: date, count: int) -> bool:
    """A deployment that began scoring inside the month: every day from its first scored day on."""
    start = session.scalar(select(func.min(ScoreRun.day)))
    return start is not None and first < start <= last and count == (last - start).days + 1


def _insert_month(session: Session, *, month: str, now: datetime, actor: Actor) -> bool:
    dialect_insert = conflict_insert(session)
    inserted = session.execute(
        dialect_insert(ScoreMonth)
        .values(month=month, closed_at=now, closed_by=actor.label)
        .on_conflict_do_nothing(index_elements=["month"])
        .returning(ScoreMonth.id)
    ).scalar_one_or_none()
    if inserted is None:
        return False
    record(
        session,
        actor=actor,
        action="score.month.close",
        target_type="score_month",
        target_id=month,
        after={"month": month, "closed_at": now.isoformat()},
        at=now,
    )
    logger.info("scores of %s closed", month)
    return True
