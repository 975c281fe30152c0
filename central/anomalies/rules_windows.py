"""The anomaly rules that hold cases against the hall's hours and cameras (SC-6(2); RULES, last
section: "dual-track" and "virtual" operation, selective entry). One SQL statement each.

- `outside_hours`: acceptances outside the profile's working hours (with grace) or on a day off,
  one hit per department and day, listing the cases.
- `unseen_acceptance`: acceptances at a window in an hour its camera reported and counted no visit
  and no seated customer: nobody was there to apply. One hit per window and day. An hour the camera
  sent nothing for is no evidence (never a fake zero); a recording counts only where no live count
  came (central.video.recorded).
- `idle_department`: working days in a row on which a department's staff seats were taken for the
  profile's minutes yet it accepted no case: cases handled off the system, or not entered.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from central.anomalies.drafts import CaseFacts, HitDraft, RuleContext, candidate_cases
from central.anomalies.sql import day_start_utc, next_hour, shanghai_day, shanghai_minute
from central.cases.lifecycle import EventType
from central.cases.models import Case, CaseEvent
from central.core.clock import SHANGHAI, shanghai_date
from central.registry.models import ServiceWindow
from central.video.models import PresenceInterval, VisitorCount
from common.profiles.supervision import IdleDepartmentRule, OutsideHoursRule, UnseenAcceptanceRule

logger = logging.getLogger(__name__)

MAX_LISTED = 20  # cases a hit's evidence lists by number (the count is always whole)
IDLE_LOOKBACK = timedelta(days=31)  # a run that began before the period keeps its first day (its key)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def working_minutes(periods: list[str]) -> list[tuple[int, int]]:
    """ "09:00-17:30" → (540, 1050): minutes from Shanghai midnight, end exclusive."""
    spans = []
    for period in periods:
        start, end = period.split("-")
        spans.append((_minutes(start), _minutes(end)))
    return spans


def _accepted_in_period(ctx: RuleContext) -> list[ColumnElement[bool]]:
    """Acceptances of the period (through the index on type and time, which also holds the case and
    the window: the million acceptances of a province's half year are read from it alone)."""
    return [
        CaseEvent.type == EventType.ACCEPTED.value,
        CaseEvent.at >= ctx.start_utc,
        CaseEvent.at < ctx.end_utc,
    ]


@dataclass(frozen=True)
class Candidate:
    """A filtered event row and its case."""

    row: Any
    facts: CaseFacts


def _window_departments(session: Session, window_ids: set[int]) -> dict[int, int | None]:
    if not window_ids:
        return {}
    rows = session.execute(
        select(ServiceWindow.id, ServiceWindow.department_id).where(ServiceWindow.id.in_(window_ids))
    )
    return {window_id: department_id for window_id, department_id in rows}


def _local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%H:%M")


def outside_hours(session: Session, ctx: RuleContext, rule: OutsideHoursRule) -> list[HitDraft]:
    days = ctx.days.table
    minute = shanghai_minute(CaseEvent.at)
    spans = working_minutes(ctx.profile.presence.working_hours)
    grace = rule.grace_minutes
    in_hours = or_(*(minute.between(max(0, a - grace), min(1439, b + grace - 1)) for a, b in spans))
    outside: ColumnElement[bool] = not_(in_hours)
    if rule.days_off:
        outside = or_(outside, days.c.workday == 0)
    query = (
        select(CaseEvent.id, CaseEvent.case_id, CaseEvent.at, CaseEvent.window_id, days.c.day, days.c.workday)
        .join(days, days.c.day == shanghai_day(CaseEvent.at))
        .where(*_accepted_in_period(ctx), outside)
    )
    found = session.execute(query).all()
    cases, voided = candidate_cases(
        session, ctx, case_ids=[r.case_id for r in found], event_ids=[r.id for r in found]
    )
    groups: dict[tuple[int, int, date], list[Candidate]] = defaultdict(list)
    for row in found:
        facts = cases.get(row.case_id)
        if facts is not None and row.id not in voided:
            groups[(facts.hall_id, facts.department_id, row.day)].append(Candidate(row, facts))
    hits = []
    for (hall_id, department_id, day), rows in sorted(groups.items(), key=lambda g: (g[0][2], g[0][1])):
        rows.sort(key=lambda r: (r.row.at, r.facts.case_no))
        hits.append(
            HitDraft(
                rule="outside_hours",
                key=f"outside_hours:{department_id}:{day.isoformat()}",
                hall_id=hall_id,
                department_id=department_id,
                case_id=rows[0].row.case_id if len(rows) == 1 else None,
                day_from=day,
                day_to=day,
                evidence={
                    "day": day.isoformat(),
                    "workday": bool(rows[0].row.workday),
                    "cases": len(rows),
                    "listed": [
                        {"case_no": r.facts.case_no, "time": _local(r.row.at), "window_id": r.row.window_id}
                        for r in rows[:MAX_LISTED]
                    ],
                    "working_hours": list(ctx.profile.presence.working_hours),
                    "grace_minutes": grace,
                },
            )
        )
    return hits


def unseen_acceptance(session: Session, ctx: RuleContext, rule: UnseenAcceptanceRule) -> list[HitDraft]:
    live = VisitorCount.origin == "live"
    live_parts = func.sum(case((live, 1), else_=0))
    visits = case(
        (live_parts > 0, func.sum(case((live, VisitorCount.visits), else_=0))),
        else_=func.sum(VisitorCount.visits),
    )
    seated = case(
        (live_parts > 0, func.sum(case((live, VisitorCount.seated_seconds), else_=0.0))),
        else_=func.sum(VisitorCount.seated_seconds),
    )
    empty = (
        select(VisitorCount.window_id, VisitorCount.hour_start, seated.label("seated"))
        .where(
            VisitorCount.hour_start >= ctx.start_utc - timedelta(hours=1),
            VisitorCount.hour_start < ctx.end_utc,
        )
        .group_by(VisitorCount.window_id, VisitorCount.hour_start)
        .having(visits == 0, seated <= rule.max_seated_seconds)
        .cte("empty_hours")
        .prefix_with("MATERIALIZED")  # the few empty hours drive: each reads its hour of acceptances
    )
    query = (
        select(
            CaseEvent.id,
            CaseEvent.case_id,
            CaseEvent.at,
            CaseEvent.window_id,
            empty.c.hour_start,
            empty.c.seated,
        )
        .select_from(empty)
        .join(
            CaseEvent,
            and_(
                CaseEvent.type == EventType.ACCEPTED.value,
                CaseEvent.at >= empty.c.hour_start,
                CaseEvent.at < next_hour(empty.c.hour_start),
                CaseEvent.window_id == empty.c.window_id,
            ),
        )
    )
    found = session.execute(query).all()
    cases, voided = candidate_cases(
        session, ctx, case_ids=[r.case_id for r in found], event_ids=[r.id for r in found]
    )
    departments = _window_departments(session, {r.window_id for r in found})
    groups: dict[tuple[int, date], list[Candidate]] = defaultdict(list)
    for row in found:
        facts = cases.get(row.case_id)
        if facts is not None and row.id not in voided:
            groups[(row.window_id, shanghai_date(row.at))].append(Candidate(row, facts))
    hits = []
    for (window_id, day), rows in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0])):
        rows.sort(key=lambda r: (r.row.at, r.facts.case_no))
        hits.append(
            HitDraft(
                rule="unseen_acceptance",
                key=f"unseen_acceptance:{window_id}:{day.isoformat()}",
                hall_id=rows[0].facts.hall_id,
                department_id=departments.get(window_id) or rows[0].facts.department_id,
                window_id=window_id,
                case_id=rows[0].row.case_id if len(rows) == 1 else None,
                day_from=day,
                day_to=day,
                evidence={
                    "day": day.isoformat(),
                    "cases": len(rows),
                    "listed": [
                        {
                            "case_no": r.facts.case_no,
                            "time": _local(r.row.at),
                            "hour": _local(r.row.hour_start),
                            "visits": 0,
                            "seated_seconds": round(float(r.row.seated), 1),
                        }
                        for r in rows[:MAX_LISTED]
                    ],
                },
            )
        )
    return hits


def idle_department(session: Session, ctx: RuleContext, rule: IdleDepartmentRule) -> list[HitDraft]:
    days = ctx.days.table
    first = max(ctx.period_from - IDLE_LOOKBACK, ctx.days.first)
    start, end = day_start_utc(first), ctx.end_utc
    presence_day = shanghai_day(PresenceInterval.started_at)
    staffed = (
        select(
            ServiceWindow.department_id,
            ServiceWindow.hall_id,
            presence_day.label("day"),
            func.sum(PresenceInterval.seconds).label("seconds"),
        )
        .join(ServiceWindow, ServiceWindow.id == PresenceInterval.window_id)
        .where(
            PresenceInterval.started_at >= start,
            PresenceInterval.started_at < end,
            ServiceWindow.department_id.is_not(None),
            ServiceWindow.hall_id.in_(ctx.hall_ids),
        )
        .group_by(ServiceWindow.department_id, ServiceWindow.hall_id, presence_day)
        .having(func.sum(PresenceInterval.seconds) >= rule.min_staffed_minutes * 60)
        .cte("staffed")
        .prefix_with("MATERIALIZED")
    )
    # A case accepted that day (the index on department and acceptance day answers each staffed day).
    busy = exists().where(Case.department_id == staffed.c.department_id, Case.accepted_on == staffed.c.day)
    idle = (
        select(staffed.c.department_id, staffed.c.hall_id, staffed.c.day, staffed.c.seconds, days.c.idx)
        .join(days, and_(days.c.day == staffed.c.day, days.c.workday == 1))
        .where(not_(busy))
        .subquery("idle")
    )
    order = func.row_number().over(partition_by=idle.c.department_id, order_by=idle.c.idx)
    islands = select(idle, (idle.c.idx - order).label("island")).subquery("islands")
    length = func.count()
    query = (
        select(
            islands.c.department_id,
            islands.c.hall_id,
            func.min(islands.c.day).label("first"),
            func.max(islands.c.day).label("last"),
            length.label("workdays"),
            func.sum(islands.c.seconds).label("seconds"),
        )
        .group_by(islands.c.department_id, islands.c.hall_id, islands.c.island)
        .having(length >= rule.min_workdays, func.max(islands.c.day) >= ctx.period_from)
    )
    return [
        HitDraft(
            rule="idle_department",
            key=f"idle_department:{row.department_id}:{_day(row.first).isoformat()}",
            hall_id=row.hall_id,
            department_id=row.department_id,
            day_from=_day(row.first),
            day_to=_day(row.last),
            evidence={
                "first": _day(row.first).isoformat(),
                "last": _day(row.last).isoformat(),
                "workdays": int(row.workdays),
                "staffed_hours": round(float(row.seconds) / 3600, 1),
                "min_staffed_minutes": rule.min_staffed_minutes,
            },
        )
        for row in session.execute(query)
    ]


def _day(value: date | str) -> date:
    """MIN/MAX over a date lose its type on SQLite (text comes back)."""
    return value if isinstance(value, date) else date.fromisoformat(value)
