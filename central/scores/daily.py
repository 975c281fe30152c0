"""The daily scores pass (QTH-3: computed automatically every day): each finished Shanghai day scored
once, in order, catching up after downtime; corrections after approvals; months closed.

**Once per day, on any number of instances.** A day is claimed by inserting its `ScoreRun` row
(unique day) in the same transaction as its scores: a second instance inserting the same day waits
for the first to commit and then skips it (PostgreSQL: ``ON CONFLICT DO NOTHING``; SQLite has one
writer at a time and finds the row). A pass that fails rolls back its claim with its rows.

**Which days.** A day is scored once it has ended and `delay` has passed (late verdicts, uploads
after a reconnect). The first pass of a deployment starts at the first day of the previous month,
so last month's scores and report exist on first start; later passes go on from the last day scored.
Days run in order: each starts from the state its previous day left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.calendar.service import load_calendar
from central.core.actor import Actor
from central.core.clock import shanghai_date
from central.core.db import conflict_insert
from central.scores.corrections import apply_corrections, detect_corrections, detect_late_ratings
from central.scores.engine import Registry, compute_day
from central.scores.models import ScoreRun
from central.scores.months import close_months
from central.scores.store import write_day
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)

SCORES_ACTOR = Actor(kind="system", name="scores")
MonthClosed = Callable[[Session, str], None]


@dataclass
class DayRun:
    day: date
    computed: bool  # False: another instance had scored it
    subjects: int = 0
    lines: int = 0
    seconds: float = 0.0


@dataclass
class PassReport:
    days: list[DayRun] = field(default_factory=list)
    corrections: int = 0
    months_closed: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the pass stopped early (a calendar year missing)

    def summary(self) -> str:
        """One zh-CN line for the demo and the logs."""
        scored = [run for run in self.days if run.computed]
        if not scored:
            return "绩效得分：没有需要计算的日期"
        span = f"{scored[0].day.isoformat()} 至 {scored[-1].day.isoformat()}"
        closed = f"，已结账月份 {'、'.join(self.months_closed)}" if self.months_closed else ""
        return (
            f"绩效得分：{span} 共 {len(scored)} 天，{sum(r.subjects for r in scored)} 个对象·日，"
            f"{sum(r.lines for r in scored)} 条扣加分明细{closed}"
        )


def score_day(
    session: Session,
    *,
    day: date,
    now: datetime,
    calendar: WorkCalendar,
    default_profile_key: str,
    instance: str,
    registry: Registry | None = None,
) -> DayRun:
    """Claim, compute and write one day; commits. A day already claimed is left alone. `registry`:
    the subjects, read once for a pass catching up several days."""
    started = time.perf_counter()
    run_id = _claim(session, day=day, now=now, instance=instance)
    if run_id is None:
        session.rollback()
        return DayRun(day, computed=False)
    try:
        scores = compute_day(
            session,
            day=day,
            as_of=now,
            calendar=calendar,
            default_profile_key=default_profile_key,
            registry=registry,
        )
        write_day(session, scores, computed_at=now)
        seconds = time.perf_counter() - started
        run = session.get_one(ScoreRun, run_id)
        run.subjects, run.lines = len(scores.subjects), scores.lines
        run.finished_at = now + timedelta(seconds=seconds)
        record(
            session,
            actor=SCORES_ACTOR,
            action="score.day.compute",
            target_type="score_run",
            target_id=str(run_id),
            after={
                "day": day.isoformat(),
                "subjects": run.subjects,
                "lines": run.lines,
                "instance": instance,
            },
            at=now,
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    logger.info("scores of %s: %d subjects, %d lines in %.1f s", day, run.subjects, run.lines, seconds)
    return DayRun(day, computed=True, subjects=run.subjects, lines=run.lines, seconds=seconds)


def _claim(session: Session, *, day: date, now: datetime, instance: str) -> int | None:
    dialect_insert = conflict_insert(session)
    statement = (
        dialect_insert(ScoreRun)
        .values(day=day, instance=instance, started_at=now, finished_at=now, subjects=0, lines=0)
        .on_conflict_do_nothing(index_elements=["day"])
        .returning(ScoreRun.id)
    )
    result = cast(CursorResult[Any], session.execute(statement))
    return result.scalar_one_or_none()


def last_scored_day(session: Session) -> date | None:
    return session.scalar(select(func.max(ScoreRun.day)))


def days_due(session: Session, *, now: datetime, delay: timedelta, through: date | None = None) -> list[date]:
    """The days to score now, in order: after the last one scored (or from the first day of the
    previous month), through the last day that has ended `delay` ago (or `through`, if earlier)."""
    ready = shanghai_date(now - delay) - timedelta(days=1)
    last_day = ready if through is None else min(through, ready)
    last = last_scored_day(session)
    if last is None:
        previous_month_end = last_day.replace(day=1) - timedelta(days=1)
        first = previous_month_end.replace(day=1)
    else:
        first = last + timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last_day - first).days + 1)]


def run_scores(
    session: Session,
    *,
    now: datetime,
    default_profile_key: str,
    instance: str,
    delay: timedelta,
    close_working_day: int,
    through: date | None = None,
    on_month_closed: MonthClosed | None = None,
) -> PassReport:
    """One pass: approvals' corrections, the days due, then months whose close day has come."""
    report = PassReport()
    calendar = load_calendar(session)
    detect_corrections(session, now=now)
    detect_late_ratings(session, now=now)
    report.corrections = apply_corrections(
        session, now=now, calendar=calendar, default_profile_key=default_profile_key
    )
    due = days_due(session, now=now, delay=delay, through=through)
    registry = (
        Registry(session, default_profile_key=default_profile_key, hall_ids=None, subject=None)
        if due
        else None
    )
    for day in due:
        try:
            report.days.append(
                score_day(
                    session,
                    day=day,
                    now=now,
                    calendar=calendar,
                    default_profile_key=default_profile_key,
                    instance=instance,
                    registry=registry,
                )
            )
        except CalendarMissingError as exc:
            report.stopped = f"the working-day calendar lacks {exc}: scores stop before {day}"
            logger.error("scores: %s", report.stopped)
            break
    report.months_closed = close_months(
        session, now=now, calendar=calendar, close_working_day=close_working_day, actor=SCORES_ACTOR
    )
    for month in report.months_closed:
        if on_month_closed is not None:
            on_month_closed(session, month)
    return report
