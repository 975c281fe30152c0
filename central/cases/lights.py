"""Lights for many cases at once, as one SQL expression over the projection.

Remaining working days compare with a date cut-off: `remaining <= Y` exactly when the due date
falls before the (Y+1)-th workday after the as-of date, so the database needs no calendar table
and a million lights cost one table scan.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import ColumnElement, String, case, cast, func, literal, select
from sqlalchemy.orm import Session

from central.cases.clock import Light
from central.cases.lifecycle import OPEN_STATUSES
from central.cases.models import Case
from common.profiles.loader import get_profile
from common.profiles.schema import LightRules
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)

OPEN_VALUES = sorted(s.value for s in OPEN_STATUSES)


def yellow_cutoff(calendar: WorkCalendar, as_of: date, yellow_days: int) -> date:
    """First due date that is *not* yellow. Past the covered years every covered date qualifies."""
    try:
        return calendar.add_workdays(as_of, yellow_days + 1)
    except CalendarMissingError:
        gaps = calendar.missing_years(as_of.year, as_of.year + 2) or [as_of.year + 1]
        return date(gaps[0], 1, 1)


def _rules_expression(rules: LightRules, *, as_of: date, calendar: WorkCalendar) -> ColumnElement[str | None]:
    promised = rules.due_basis == "promised"
    due = Case.promised_due_date if promised else Case.legal_due_date
    paused = Case.paused_remaining_promised if promised else Case.paused_remaining_legal
    yellow = rules.yellow_remaining_workdays
    paused_whens: list[tuple[ColumnElement[bool], str]] = [(paused < 0, Light.RED.value)]
    running_whens: list[tuple[ColumnElement[bool], str]] = [(due < as_of, Light.RED.value)]
    if yellow is not None:
        paused_whens.append((paused <= yellow, Light.YELLOW.value))
        running_whens.append((due < yellow_cutoff(calendar, as_of, yellow), Light.YELLOW.value))
    return case(
        (Case.status.not_in(OPEN_VALUES), literal(None, String)),
        (due.is_(None), literal(None, String)),
        (Case.paused_since.is_not(None), case(*paused_whens, else_=Light.GREEN.value)),
        *running_whens,
        else_=Light.GREEN.value,
    )


def light_expression(
    *, as_of: date, calendar: WorkCalendar, halls_by_profile: Mapping[str, list[int]], default_key: str
) -> ColumnElement[str | None]:
    """The light of every case row as of a date, honouring per-region rule profiles."""
    expressions = {
        key: _rules_expression(get_profile(key).lights, as_of=as_of, calendar=calendar)
        for key in {default_key, *halls_by_profile}
    }
    others = [
        (Case.hall_id.in_(halls), expressions[key])
        for key, halls in halls_by_profile.items()
        if key != default_key and halls
    ]
    if not others:
        return expressions[default_key]
    return case(*others, else_=expressions[default_key])


@dataclass(frozen=True)
class LightCounts:
    green: int
    yellow: int
    red: int
    unknown: int  # open cases whose due date needs a missing calendar year


def count_lights(
    session: Session, *, light: ColumnElement[str | None], where: ColumnElement[bool] | None = None
) -> LightCounts:
    query = select(light.label("light"), func.count()).where(Case.status.in_(OPEN_VALUES)).group_by(light)
    if where is not None:
        query = query.where(where)
    counts = {value: n for value, n in session.execute(query)}
    return LightCounts(
        green=counts.get(Light.GREEN.value, 0),
        yellow=counts.get(Light.YELLOW.value, 0),
        red=counts.get(Light.RED.value, 0),
        unknown=counts.get(None, 0),
    )


_BY_CODE = (None, Light.GREEN.value, Light.YELLOW.value, Light.RED.value)


def iter_open_lights(
    session: Session, *, light: ColumnElement[str | None], chunk: int = 1_000_000
) -> Iterator[tuple[int, str | None]]:
    """(case id, light) for every open case, in id order, up to `chunk` ids per query.

    A row per case through the driver and SQLAlchemy costs 2-4 µs, several times the SQL
    itself, so each query returns one string of `id * 4 + code` values aggregated in the
    database, decoded with numpy.
    """
    code = case({value: n for n, value in enumerate(_BY_CODE) if value}, value=light, else_=0)
    packed = func.aggregate_strings(cast(Case.id * 4 + code, String), ",")
    low, high = session.execute(select(func.min(Case.id), func.max(Case.id))).one()
    if low is None:
        return
    names = np.array(_BY_CODE, dtype=object)
    for start in range(low, high + 1, chunk):
        query = select(packed).where(Case.status.in_(OPEN_VALUES))
        if high - low >= chunk:
            query = query.where(Case.id.between(start, start + chunk - 1))
        text = session.execute(query).scalar_one()
        if text:
            values = np.sort(np.fromstring(text, dtype=np.int64, sep=","))
            yield from zip((values >> 2).tolist(), names[values & 3].tolist(), strict=True)
