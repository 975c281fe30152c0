"""Case figures of a month in one pass over the cases (GROUP BY item, department, hall and light):
received, accepted and closed in the month, open at its end with the light they showed then, and
the decided ones on time.

*Open at the month's end*: received by its end and not closed by its last day. Their light is judged
on that day from the stored due dates (a case closed since still counts: the light it had then). The
stored projection knows only a case's present pause and extensions, so a case paused or extended
after the month's end is judged by its due dates as they are now — the one approximation here.
*On time*: a decided case (办结 or 不予许可) closed in the month by its due date on the basis its
hall's rule profile lights on (承诺时限 or 法定时限), as the case clock's `finished_on_time` says.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from central.cases.clock import Light
from central.cases.lifecycle import DECIDED_STATUSES
from central.cases.lights import yellow_cutoff
from central.cases.models import Case
from central.registry.jurisdiction import Jurisdiction
from central.reports.period import Month
from common.profiles.loader import get_profile
from common.profiles.schema import LightRules
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

DECIDED_VALUES = sorted(s.value for s in DECIDED_STATUSES)


@dataclass(frozen=True)
class CaseFact:
    """One group of cases: an item of a department of a hall, with the light at the month's end."""

    item_id: int
    department_id: int
    hall_id: int
    light: str | None  # green | yellow | red | None (open with no due date known); "" not open
    received: int
    accepted: int
    closed: int
    open_at_end: int
    decided: int
    on_time: int


def _per_profile(
    make: dict[str, ColumnElement[Any]], groups: Mapping[str, list[int]], default_key: str
) -> ColumnElement[Any]:
    """One expression per rule profile, chosen by the case's hall (as `light_expression` does)."""
    others = [
        (Case.hall_id.in_(halls), make[key]) for key, halls in groups.items() if key != default_key and halls
    ]
    return case(*others, else_=make[default_key]) if others else make[default_key]


def _due(rules: LightRules) -> ColumnElement[Any]:
    column = Case.promised_due_date if rules.due_basis == "promised" else Case.legal_due_date
    return column.expression


def _light(rules: LightRules, *, as_of: date, calendar: WorkCalendar) -> ColumnElement[Any]:
    """The light on `as_of` of a case open then (the lights' rules, without their open-status test:
    a case closed after `as_of` was open on it)."""
    due = _due(rules)
    paused = Case.paused_remaining_promised if rules.due_basis == "promised" else Case.paused_remaining_legal
    yellow = rules.yellow_remaining_workdays
    paused_whens: list[tuple[ColumnElement[bool], str]] = [(paused < 0, Light.RED.value)]
    running_whens: list[tuple[ColumnElement[bool], str]] = [(due < as_of, Light.RED.value)]
    if yellow is not None:
        paused_whens.append((paused <= yellow, Light.YELLOW.value))
        running_whens.append((due < yellow_cutoff(calendar, as_of, yellow), Light.YELLOW.value))
    return case(
        (due.is_(None), literal(None, String)),
        (
            and_(Case.paused_since.is_not(None), Case.paused_since <= as_of),
            case(*paused_whens, else_=Light.GREEN.value),
        ),
        *running_whens,
        else_=Light.GREEN.value,
    )


def case_facts(
    session: Session,
    *,
    month: Month,
    until: date,
    within: Jurisdiction,
    calendar: WorkCalendar,
    groups: Mapping[str, list[int]],
    default_key: str,
) -> list[CaseFact]:
    """The month's case groups inside `within`; `until` is the day lights are judged on (the month's
    last day, or today while it runs)."""
    keys = {default_key, *groups}
    rules = {key: get_profile(key).lights for key in keys}
    due = _per_profile({key: _due(r) for key, r in rules.items()}, groups, default_key)
    light = _per_profile(
        {key: _light(r, as_of=until, calendar=calendar) for key, r in rules.items()}, groups, default_key
    )
    received_by_end = Case.received_at < month.end_utc
    open_at_end = and_(received_by_end, or_(Case.closed_on.is_(None), Case.closed_on > until))
    closed_in = and_(Case.closed_on >= month.first, Case.closed_on <= month.last)
    decided = and_(closed_in, Case.status.in_(DECIDED_VALUES), due.is_not(None))

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    light_group = case((open_at_end, func.coalesce(light, "none")), else_="")
    query = (
        select(
            Case.item_id,
            Case.department_id,
            Case.hall_id,
            light_group,
            count(Case.received_at >= month.start_utc),
            count(and_(Case.accepted_on >= month.first, Case.accepted_on <= month.last)),
            count(closed_in),
            count(open_at_end),
            count(decided),
            count(and_(decided, Case.closed_on <= due)),
        )
        .where(
            within.clause(hall_id=Case.hall_id, department_id=Case.department_id),
            received_by_end,
            or_(Case.closed_on.is_(None), Case.closed_on >= month.first),
        )
        .group_by(Case.item_id, Case.department_id, Case.hall_id, light_group)
    )
    facts = [
        CaseFact(
            item_id=item,
            department_id=department,
            hall_id=hall,
            light=None if group == "none" else str(group),
            received=int(received),
            accepted=int(accepted),
            closed=int(closed),
            open_at_end=int(still_open),
            decided=int(decided_n),
            on_time=int(on_time),
        )
        for item, department, hall, group, received, accepted, closed, still_open, decided_n, on_time in (
            session.execute(query)
        )
    ]
    logger.debug("monthly report %s: %d case groups", month.text, len(facts))
    return facts


__all__ = ["CaseFact", "case_facts"]
