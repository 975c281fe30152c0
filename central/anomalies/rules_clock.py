"""The anomaly rules over cases' clocks (SC-6(2)): set-based SQL over the whole period.

- `item_pace`: an item's month far faster or slower than its own months before (working days from
  acceptance to completion).
- `due_date_bunching`: a department's completions of a month bunched on the due date itself.
  Both come from one GROUP BY of the completed cases per item and month (`month_totals`); the
  comparison with history runs over those few thousand totals.
- `pause_before_due`: a suspension or correction request started when at most N working days were
  left: stopping a clock that was about to go red. The days left are counted as the clock stood —
  acceptance, limit and extensions, plus the working days earlier pauses took off (LAW arts. 32, 45).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from central.anomalies.drafts import HitDraft, RuleContext, event_counts
from central.anomalies.sql import month_number, month_text, shanghai_day, unindexed
from central.cases.lifecycle import CaseStatus, EventType
from central.cases.models import Case, CaseEvent
from common.profiles.supervision import DueDateBunchingRule, PaceRule, PauseBeforeDueRule

logger = logging.getLogger(__name__)

PAUSE_STARTS = (EventType.SUSPENDED.value, EventType.CORRECTION_REQUESTED.value)
PAUSE_ENDS = (EventType.RESUMED.value, EventType.CORRECTION_RECEIVED.value)


def _month_span(number: int, ctx: RuleContext) -> tuple[date, date]:
    """The part of a month inside the period (a hit's day_from and day_to)."""
    following = number + 1
    first = date(number // 12, number % 12 + 1, 1)
    last = date(following // 12, following % 12 + 1, 1) - timedelta(days=1)
    return max(first, ctx.period_from), min(last, ctx.period_to)


@dataclass(frozen=True)
class MonthTotal:
    """An item's completions closed in one month: how many, their working days, how many on the due date."""

    item_id: int
    department_id: int
    hall_id: int
    month: int  # month_number
    cases: int
    used_workdays: int
    on_due_date: int


def month_totals(session: Session, ctx: RuleContext) -> list[MonthTotal]:
    """One GROUP BY over the completed cases of the period and the pace rule's history, shared by
    `item_pace` and `due_date_bunching` (kept on the context: the cases are scanned once)."""
    cached = ctx.cache.get("month_totals")
    if cached is not None:
        return cast(list[MonthTotal], cached)
    days = ctx.days.table
    accepted, closed = days.alias("d_accepted"), days.alias("d_closed")
    due = Case.promised_due_date if ctx.profile.lights.due_basis == "promised" else Case.legal_due_date
    first_month = month_number(ctx.period_from) - ctx.profile.anomalies.item_pace.history_months
    item = unindexed(Case.item_id)  # grouped by a plain scan: SQLite would walk the item index, row by row
    query = (
        select(
            item,
            Case.department_id,
            Case.hall_id,
            closed.c.month_no,
            func.count(),
            func.sum(closed.c.idx - accepted.c.idx),
            func.sum(case((Case.closed_on == due, 1), else_=0)),
        )
        .join(accepted, accepted.c.day == unindexed(Case.accepted_on))
        .join(closed, closed.c.day == unindexed(Case.closed_on))
        .where(
            unindexed(Case.status) == CaseStatus.COMPLETED.value,
            unindexed(Case.closed_on) <= ctx.period_to,
            closed.c.month_no >= first_month,
            unindexed(Case.hall_id).in_(ctx.hall_ids),
        )
        .group_by(item, Case.department_id, Case.hall_id, closed.c.month_no)
    )
    totals = [MonthTotal(*(int(value or 0) for value in row)) for row in session.execute(query)]
    ctx.cache["month_totals"] = totals
    return totals


def item_pace(session: Session, ctx: RuleContext, rule: PaceRule) -> list[HitDraft]:
    """Each month of the period against the item's `history_months` months before it (months with no
    completions are no history); means multiplied out, so an empty history never divides."""
    by_item: dict[int, dict[int, MonthTotal]] = defaultdict(dict)
    for total in month_totals(session, ctx):
        by_item[total.item_id][total.month] = total
    first, last = month_number(ctx.period_from), month_number(ctx.period_to)
    hits = []
    for months in by_item.values():
        for number, now in sorted(months.items()):
            if not first <= number <= last or now.cases < rule.min_cases:
                continue
            before = [months[m] for m in range(number - rule.history_months, number) if m in months]
            history_cases = sum(t.cases for t in before)
            if history_cases < rule.min_history_cases:
                continue
            mean = now.used_workdays / now.cases
            usual = sum(t.used_workdays for t in before) / history_cases
            faster = mean <= rule.fast_ratio * usual and usual - mean >= rule.min_difference_workdays
            slower = mean >= rule.slow_ratio * usual and mean - usual >= rule.min_difference_workdays
            if faster or slower:
                hits.append(_pace_hit(ctx, rule, now, mean=mean, usual=usual, history_cases=history_cases))
    return hits


def _pace_hit(
    ctx: RuleContext, rule: PaceRule, total: MonthTotal, *, mean: float, usual: float, history_cases: int
) -> HitDraft:
    first, last = _month_span(total.month, ctx)
    return HitDraft(
        rule="item_pace",
        key=f"item_pace:{total.item_id}:{month_text(total.month)}",
        hall_id=total.hall_id,
        department_id=total.department_id,
        item_id=total.item_id,
        day_from=first,
        day_to=last,
        evidence={
            "month": month_text(total.month),
            "cases": total.cases,
            "mean_workdays": round(mean, 2),
            "history_cases": history_cases,
            "history_mean_workdays": round(usual, 2),
            "history_months": rule.history_months,
            "ratio": round(mean / usual, 3) if usual else None,
            "direction": "faster" if mean < usual else "slower",
        },
    )


def due_date_bunching(session: Session, ctx: RuleContext, rule: DueDateBunchingRule) -> list[HitDraft]:
    """A department's completions in each month of the period, and how many fell on the due date."""
    first, last = month_number(ctx.period_from), month_number(ctx.period_to)
    sums: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for total in month_totals(session, ctx):
        if first <= total.month <= last:
            counted = sums[(total.department_id, total.hall_id, total.month)]
            counted[0] += total.cases
            counted[1] += total.on_due_date
    hits = []
    for (department_id, hall_id, number), (completed, on_due) in sorted(sums.items()):
        if completed < rule.min_cases or on_due < rule.max_share * completed:
            continue
        day_from, day_to = _month_span(number, ctx)
        hits.append(
            HitDraft(
                rule="due_date_bunching",
                key=f"due_date_bunching:{department_id}:{month_text(number)}",
                hall_id=hall_id,
                department_id=department_id,
                day_from=day_from,
                day_to=day_to,
                evidence={
                    "month": month_text(number),
                    "completed": completed,
                    "on_due_date": on_due,
                    "share": round(on_due / completed, 3),
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
    start_day, end_day, accepted = days.alias("d_start"), days.alias("d_end"), days.alias("d_accepted")
    counted = and_(events.c.next_type.in_(PAUSE_ENDS), events.c.day >= Case.accepted_on)
    limit = Case.promised_limit_days if ctx.profile.lights.due_basis == "promised" else Case.legal_limit_days
    starts = (
        select(
            events.c.id,
            events.c.type,
            events.c.at,
            events.c.day,
            Case.id.label("case_id"),
            Case.case_no,
            Case.hall_id,
            Case.department_id,
            Case.item_id,
            Case.accepted_on,
            (accepted.c.idx + limit + Case.extension_days - start_day.c.idx).label("base"),
            func.coalesce(
                func.sum(case((counted, end_day.c.idx - start_day.c.idx), else_=0)).over(
                    partition_by=events.c.case_id, order_by=(events.c.at, events.c.id), rows=(None, -1)
                ),
                0,
            ).label("earlier"),
        )
        .join(Case, Case.id == events.c.case_id)
        .join(accepted, accepted.c.day == Case.accepted_on)
        .join(start_day, start_day.c.day == events.c.day)
        .outerjoin(end_day, end_day.c.day == events.c.end_day)
        .where(events.c.type.in_(PAUSE_STARTS), Case.hall_id.in_(ctx.hall_ids))
        .subquery("pause_starts")
    )
    # Working days left when the pause began: acceptance + limit + extensions + earlier pauses − today.
    remaining = starts.c.base + starts.c.earlier
    query = select(starts, remaining.label("remaining")).where(
        starts.c.at >= ctx.start_utc,
        starts.c.at < ctx.end_utc,
        starts.c.day >= starts.c.accepted_on,
        remaining.between(0, rule.within_workdays),
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
