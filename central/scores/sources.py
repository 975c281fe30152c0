"""The records of one Shanghai day that scoring rules count, each with the subjects it belongs to.

One set-based query per kind of record (a day of a province is tens of thousands of rows, never a
query per subject). Every query reads the records **as they stood at `as_of`**: a signal issued,
escalated or closed after it, a review decided after it, an exclusion approved after it is not yet
there. So a day recomputed with the same `as_of` gives the same lines, and a recomputation after an
approval (a later `as_of`) shows what the approval changed.

**Which day.** A record counts on the day it became a fact: a signal on the day it was issued (or
turned red), a closure with a fault finding on the day it closed, an absence or a patrol finding on
the day an inspector confirmed it (reviews come days later, after that day was scored), a follow-up
or an investigation on the first day after its deadline passed, a complaint found justified on the
day its outcome was recorded and one undecided on the first day after its last day to decide.

Who a record belongs to: its hall and department always; a window and a staff member when the record
names them (a case's window and clerk, a rating's). A record that names a window but no staff member
(an absence, a patrol finding) belongs to the window's staff member when exactly one active staff
member sits at that window — with two on shifts the cameras cannot tell whose it is, so neither is
charged and the window carries it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from central.cases.models import Case
from central.ratings.figures import bad_threshold
from central.ratings.models import Rating
from central.registry.models import ServiceWindow
from central.scores.records import day_record_list
from central.scores.scope import Record, Scope, Subject, not_excluded

logger = logging.getLogger(__name__)

__all__ = ["CaseTally", "DayRecords", "RatingTally", "Record", "Subject", "day_records"]


@dataclass(frozen=True, slots=True)
class CaseTally:
    """Cases closed on the day, grouped by where they belong: how many, how many early, how many
    lacking data (no window or no clerk recorded: the binding and scoring rules cannot place them)."""

    hall: int
    department: int | None
    window: int | None
    staff: int | None
    closed: int
    early: int
    missing: int


@dataclass(frozen=True, slots=True)
class RatingTally:
    """The day's counted ratings, grouped by where they belong (weights as central.ratings.figures)."""

    hall: int
    department: int | None
    window: int | None
    staff: int | None
    count: int
    weight: float
    good_weight: float


@dataclass(frozen=True)
class DayRecords:
    records: list[Record]
    cases: list[CaseTally]
    ratings: list[RatingTally]


def day_records(
    session: Session,
    *,
    day: date,
    as_of: datetime,
    default_profile_key: str,
    hall_ids: Collection[int] | None = None,
    subject: Subject | None = None,
) -> DayRecords:
    """Everything of `day` that the rules count, as it stood at `as_of`."""
    scope = Scope(session, hall_ids=hall_ids, subject=subject)
    return DayRecords(
        records=day_record_list(
            session, day=day, as_of=as_of, scope=scope, default_profile_key=default_profile_key
        ),
        cases=_case_tallies(session, day=day, scope=scope),
        ratings=_rating_tallies(
            session, day=day, as_of=as_of, scope=scope, default_profile_key=default_profile_key
        ),
    )


def _case_tallies(session: Session, *, day: date, scope: Scope) -> list[CaseTally]:
    early = func.sum(case((Case.closed_on < Case.promised_due_date, 1), else_=0))
    missing = func.sum(case((or_(Case.window_id.is_(None), Case.staff_id.is_(None)), 1), else_=0))
    groups = (Case.hall_id, Case.department_id, Case.window_id, Case.staff_id)
    query = (
        select(*groups, func.count(Case.id), early, missing)
        .where(Case.closed_on == day)
        .where(
            scope.clause(
                hall=Case.hall_id, department=Case.department_id, window=Case.window_id, staff=Case.staff_id
            )
        )
        .group_by(*groups)
    )
    return [
        CaseTally(hall, department, window, staff, int(closed), int(hits or 0), int(lacking or 0))
        for hall, department, window, staff, closed, hits, lacking in session.execute(query)
    ]


def _rating_tallies(
    session: Session, *, day: date, as_of: datetime, scope: Scope, default_profile_key: str
) -> list[RatingTally]:
    threshold = bad_threshold(session, default_profile=default_profile_key)
    department = func.coalesce(Rating.department_id, ServiceWindow.department_id)
    good = func.sum(case((Rating.level > threshold, Rating.weight), else_=0.0))
    groups = (Rating.hall_id, department, Rating.window_id, Rating.staff_id)
    query = (
        select(*groups, func.count(Rating.id), func.coalesce(func.sum(Rating.weight), 0.0), good)
        .outerjoin(ServiceWindow, ServiceWindow.id == Rating.window_id)
        .where(Rating.rated_on == day, Rating.rated_at <= as_of)
        .where(not_excluded(as_of))
        .where(
            scope.clause(
                hall=Rating.hall_id, department=department, window=Rating.window_id, staff=Rating.staff_id
            )
        )
        .group_by(*groups)
    )
    return [
        RatingTally(hall, dept, window, staff, int(count), float(weight or 0), float(good_weight or 0))
        for hall, dept, window, staff, count, weight, good_weight in session.execute(query)
    ]
