"""The anomaly rules over cases' clocks (SC-6(2)): each one SQL statement over the whole period.

- `item_pace`: an item's month far faster or slower than its own months before (working days from
  acceptance to completion; a RANGE window over month numbers, so a month without cases is no month
  of history).
- `due_date_bunching`: a department's completions of a month bunched on the due date itself.
- `pause_before_due`: a suspension or correction request started when at most N working days were
  left: stopping a clock that was about to go red. The days left are counted as the clock stood —
  acceptance, limit and extensions, plus the working days earlier pauses took off (LAW arts. 32, 45).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import Float, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from central.anomalies.drafts import HitDraft, RuleContext, event_counts
from central.anomalies.sql import month_number, month_text, shanghai_day
from central.cases.lifecycle import CaseStatus, EventType
from central.cases.models import Case, CaseEvent
from common.profiles.supervision import DueDateBunchingRule, PaceRule, PauseBeforeDueRule

logger = logging.getLogger(__name__)

PAUSE_STARTS = (EventType.SUSPENDED.value, EventType.CORRECTION_REQUESTED.value)
PAUSE_ENDS = (EventType.RESUMED.value, EventType.CORRECTION_RECEIVED.value)


def _month_bounds(ctx: RuleContext) -> tuple[int, int]:
    return month_number(ctx.period_from), month_number(ctx.period_to)


def _month_span(number: int, ctx: RuleContext) -> tuple[date, date]:
    """The part of a month inside the period (a hit's day_from and day_to)."""
    following = number + 1
    first = date(number // 12, number % 12 + 1, 1)
    last = date(following // 12, following % 12 + 1, 1) - timedelta(days=1)
    return max(first, ctx.period_from), min(last, ctx.period_to)


def item_pace(session: Session, ctx: RuleContext, rule: PaceRule) -> list[HitDraft]:
    days = ctx.days.table
    accepted, closed = days.alias("d_accepted"), days.alias("d_closed")
    first_month, last_month = _month_bounds(ctx)
    history_from = first_month - rule.history_months
    per_case = (
        select(
            Case.item_id,
            Case.department_id,
            Case.hall_id,
            closed.c.month_no.label("m"),
            (closed.c.idx - accepted.c.idx).label("used"),
        )
        .join(accepted, accepted.c.day == Case.accepted_on)
        .join(closed, closed.c.day == Case.closed_on)
        .where(
            Case.status == CaseStatus.COMPLETED.value,
            Case.closed_on <= ctx.period_to,
            closed.c.month_no >= history_from,
            Case.hall_id.in_(ctx.hall_ids),
        )
        .subquery("per_case")
    )
    monthly = (
        select(
            per_case.c.item_id,
            per_case.c.department_id,
            per_case.c.hall_id,
            per_case.c.m,
            func.count().label("n"),
            cast(func.sum(per_case.c.used), Float).label("s"),
        )
        .group_by(per_case.c.item_id, per_case.c.department_id, per_case.c.hall_id, per_case.c.m)
        .subquery("monthly")
    )
    frame = (-rule.history_months, -1)
    history = select(
        *monthly.c,
        func.sum(monthly.c.n)
        .over(partition_by=monthly.c.item_id, order_by=monthly.c.m, range_=frame)
        .label("hn"),
        func.sum(monthly.c.s)
        .over(partition_by=monthly.c.item_id, order_by=monthly.c.m, range_=frame)
        .label("hs"),
    ).subquery("history")
    n, s, hn, hs = history.c.n, history.c.s, history.c.hn, history.c.hs
    gap = rule.min_difference_workdays * n * hn  # mean differences, multiplied out: no division in SQL
    faster = and_(s * hn <= rule.fast_ratio * hs * n, hs * n - s * hn >= gap)
    slower = and_(s * hn >= rule.slow_ratio * hs * n, s * hn - hs * n >= gap)
    query = select(history).where(
        history.c.m.between(first_month, last_month),
        n >= rule.min_cases,
        hn >= rule.min_history_cases,
        or_(faster, slower),
    )
    hits = []
    for row in session.execute(query).mappings():
        mean, usual = row["s"] / row["n"], row["hs"] / row["hn"]
        first, last = _month_span(row["m"], ctx)
        hits.append(
            HitDraft(
                rule="item_pace",
                key=f"item_pace:{row['item_id']}:{month_text(row['m'])}",
                hall_id=row["hall_id"],
                department_id=row["department_id"],
                item_id=row["item_id"],
                day_from=first,
                day_to=last,
                evidence={
                    "month": month_text(row["m"]),
                    "cases": row["n"],
                    "mean_workdays": round(mean, 2),
                    "history_cases": int(row["hn"]),
                    "history_mean_workdays": round(usual, 2),
                    "history_months": rule.history_months,
                    "ratio": round(mean / usual, 3) if usual else None,
                    "direction": "faster" if mean < usual else "slower",
                },
            )
        )
    return hits


def due_date_bunching(session: Session, ctx: RuleContext, rule: DueDateBunchingRule) -> list[HitDraft]:
    days = ctx.days.table
    due = Case.promised_due_date if ctx.profile.lights.due_basis == "promised" else Case.legal_due_date
    on_due = func.sum(case((Case.closed_on == due, 1), else_=0))
    total = func.count()
    query = (
        select(Case.department_id, Case.hall_id, days.c.month_no, total.label("n"), on_due.label("on_due"))
        .join(days, days.c.day == Case.closed_on)
        .where(
            Case.status == CaseStatus.COMPLETED.value,
            Case.closed_on.between(ctx.period_from, ctx.period_to),
            due.is_not(None),
            Case.hall_id.in_(ctx.hall_ids),
        )
        .group_by(Case.department_id, Case.hall_id, days.c.month_no)
        .having(total >= rule.min_cases, on_due >= rule.max_share * total)
    )
    hits = []
    for row in session.execute(query).mappings():
        first, last = _month_span(row["month_no"], ctx)
        hits.append(
            HitDraft(
                rule="due_date_bunching",
                key=f"due_date_bunching:{row['department_id']}:{month_text(row['month_no'])}",
                hall_id=row["hall_id"],
                department_id=row["department_id"],
                day_from=first,
                day_to=last,
                evidence={
                    "month": month_text(row["month_no"]),
                    "completed": row["n"],
                    "on_due_date": row["on_due"],
                    "share": round(row["on_due"] / row["n"], 3),
                    "max_share": rule.max_share,
                    "due_basis": ctx.profile.lights.due_basis,
                },
            )
        )
    return hits


def pause_before_due(session: Session, ctx: RuleContext, rule: PauseBeforeDueRule) -> list[HitDraft]:
    days = ctx.days.table
    in_period = and_(CaseEvent.at >= ctx.start_utc, CaseEvent.at < ctx.end_utc)
    paused_cases = select(CaseEvent.case_id).where(CaseEvent.type.in_(PAUSE_STARTS), in_period)
    order = (CaseEvent.at, CaseEvent.id)
    events = (
        select(
            CaseEvent.id,
            CaseEvent.case_id,
            CaseEvent.type,
            CaseEvent.at,
            shanghai_day(CaseEvent.at).label("day"),
            func.lead(shanghai_day(CaseEvent.at))
            .over(partition_by=CaseEvent.case_id, order_by=order)
            .label("end_day"),
            func.lead(CaseEvent.type).over(partition_by=CaseEvent.case_id, order_by=order).label("next_type"),
        )
        .where(
            CaseEvent.type.in_(PAUSE_STARTS + PAUSE_ENDS),
            CaseEvent.case_id.in_(paused_cases),
            event_counts(),
        )
        .subquery("pause_events")
    )
    start_day, end_day = days.alias("d_start"), days.alias("d_end")
    counted = and_(events.c.next_type.in_(PAUSE_ENDS), events.c.day >= Case.accepted_on)
    starts = (
        select(
            events.c.id,
            events.c.case_id,
            events.c.type,
            events.c.at,
            events.c.day,
            start_day.c.idx.label("start_idx"),
            func.coalesce(
                func.sum(case((counted, end_day.c.idx - start_day.c.idx), else_=0)).over(
                    partition_by=events.c.case_id, order_by=(events.c.at, events.c.id), rows=(None, -1)
                ),
                0,
            ).label("earlier"),
        )
        .join(Case, Case.id == events.c.case_id)
        .join(start_day, start_day.c.day == events.c.day)
        .outerjoin(end_day, end_day.c.day == events.c.end_day)
        .where(events.c.type.in_(PAUSE_STARTS))
        .subquery("pause_starts")
    )
    accepted = days.alias("d_accepted")
    limit = Case.promised_limit_days if ctx.profile.lights.due_basis == "promised" else Case.legal_limit_days
    remaining = accepted.c.idx + limit + Case.extension_days + starts.c.earlier - starts.c.start_idx
    query = (
        select(
            starts.c.id,
            starts.c.type,
            starts.c.day,
            starts.c.at,
            Case.id.label("case_id"),
            Case.case_no,
            Case.hall_id,
            Case.department_id,
            Case.item_id,
            remaining.label("remaining"),
        )
        .join(Case, Case.id == starts.c.case_id)
        .join(accepted, accepted.c.day == Case.accepted_on)
        .where(
            starts.c.at >= ctx.start_utc,
            starts.c.at < ctx.end_utc,
            starts.c.day >= Case.accepted_on,
            Case.hall_id.in_(ctx.hall_ids),
            remaining.between(0, rule.within_workdays),
        )
    )
    return [
        HitDraft(
            rule="pause_before_due",
            key=f"pause_before_due:{row['id']}",
            hall_id=row["hall_id"],
            department_id=row["department_id"],
            item_id=row["item_id"],
            case_id=row["case_id"],
            day_from=row["day"],
            day_to=row["day"],
            evidence={
                "case_no": row["case_no"],
                "event": row["type"],
                "at": row["at"].isoformat(),
                "remaining_workdays": int(row["remaining"]),
                "within_workdays": rule.within_workdays,
                "due_basis": ctx.profile.lights.due_basis,
            },
        )
        for row in session.execute(query).mappings()
    ]
