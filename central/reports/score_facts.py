"""The month's scores for the report's score table: read from the score tables (`central.scores`,
written by the daily pass), never computed here.

A subject's figure is its `month_score` on the month's last computed day (rows `current` only: a
recomputed day's earlier figure is history). Each subject's latest row of the month is read (GROUP BY
subject, max day); the report then keeps the rows of the scope's last computed day, so one reading
serves every region the closed-month pass writes a report for. Last month's figure is read the same
way: the change is this month's figure minus last month's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, null, select
from sqlalchemy.orm import Session

from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Staff
from central.reports.period import Month
from central.scores.models import ScoreDay

logger = logging.getLogger(__name__)

KINDS = ("department", "staff")
BATCH = 5000  # ids per IN (SQLite's bound parameters)


@dataclass(frozen=True)
class ScoreFact:
    month: str
    kind: str  # department | staff
    subject_id: int
    hall_id: int
    day: date
    score: float
    code: str
    name: str
    department_name: str | None  # staff: their department


def _latest(session: Session, month: str, within: Jurisdiction) -> list[tuple[str, int, int, date, float]]:
    inside = within.clause(hall_id=ScoreDay.hall_id, department_id=ScoreDay.department_id)
    last = (
        select(ScoreDay.subject_kind, ScoreDay.subject_id, func.max(ScoreDay.day).label("day"))
        .where(ScoreDay.month == month, ScoreDay.current.is_(True), ScoreDay.subject_kind.in_(KINDS), inside)
        .group_by(ScoreDay.subject_kind, ScoreDay.subject_id)
        .subquery()
    )
    query = select(
        ScoreDay.subject_kind, ScoreDay.subject_id, ScoreDay.hall_id, ScoreDay.day, ScoreDay.month_score
    ).join(
        last,
        and_(
            ScoreDay.subject_kind == last.c.subject_kind,
            ScoreDay.subject_id == last.c.subject_id,
            ScoreDay.day == last.c.day,
        ),
    )
    query = query.where(ScoreDay.month == month, ScoreDay.current.is_(True))
    return [(str(k), int(s), int(h), d, float(score)) for k, s, h, d, score in session.execute(query)]


def _names(session: Session, ids: Iterable[int], *, staff: bool) -> dict[int, tuple[str, str, str | None]]:
    """id -> (code, name, the staff member's department) of departments or staff, in batches."""
    ordered = sorted(set(ids))
    found: dict[int, tuple[str, str, str | None]] = {}
    for start in range(0, len(ordered), BATCH):
        batch = ordered[start : start + BATCH]
        query: Select[*tuple[Any, ...]]
        if staff:
            query = (
                select(Staff.id, Staff.code, Staff.name, Department.name)
                .join(Department, Department.id == Staff.department_id)
                .where(Staff.id.in_(batch))
            )
        else:
            query = select(Department.id, Department.code, Department.name, null()).where(
                Department.id.in_(batch)
            )
        found.update({int(i): (str(c), str(n), d) for i, c, n, d in session.execute(query)})
    return found


def score_facts(session: Session, *, month: Month, within: Jurisdiction) -> list[ScoreFact]:
    """This month's and last month's latest score of every department and staff member inside
    `within`, with their codes and names."""
    rows = [(m, *row) for m in (month.text, month.previous.text) for row in _latest(session, m, within)]
    departments = _names(session, (r[2] for r in rows if r[1] == "department"), staff=False)
    staff = _names(session, (r[2] for r in rows if r[1] == "staff"), staff=True)
    facts = []
    for m, kind, subject, hall, day, score in rows:
        named = (departments if kind == "department" else staff).get(subject)
        if named is not None:  # a subject removed from the registry since has no name to show
            facts.append(ScoreFact(m, kind, subject, hall, day, score, *named))
    return facts


__all__ = ["ScoreFact", "score_facts"]
