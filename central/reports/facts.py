"""Everything a monthly report counts, gathered once for a jurisdiction at the grain of a department of
a hall (GROUP BY in SQL), so that one gathering serves the jurisdiction and every region or hall in
it (`central.reports.figures.assemble` slices it): the closed-month pass gathers the deployment once
and writes a report per region from it.

What is not a GROUP BY, and why: the hours from a signal's issue to its correction are read one per
correction, because the median has no aggregate SQLite and PostgreSQL share (a month's corrections
are few next to its cases); an investigation's report is on time when its Shanghai day is on or before
the due date, decided per row (a month has a handful of investigations).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from central.core.clock import shanghai_date
from central.investigations.models import Investigation
from central.patrols.compliance import compliance_month
from central.patrols.models import PatrolFinding
from central.patrols.schemas import BodyCompliance
from central.ratings.figures import satisfaction_figures
from central.ratings.schemas import FigureBy, FigureRow
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.registry.models import Department, Hall, Item, Region
from central.reports.case_facts import CaseFact, case_facts
from central.reports.period import Month
from central.reports.score_facts import ScoreFact, score_facts
from central.signals.lifecycle import SignalAction
from central.signals.models import Signal, SignalEvent
from central.video.models import AbsenceEvent
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Count:
    """n records of one kind (a colour, a status, …) at one department (None: none) of one hall."""

    hall_id: int
    department_id: int | None
    kind: str
    n: int


@dataclass(frozen=True)
class Correction:
    hall_id: int
    department_id: int
    hours: float


@dataclass(frozen=True)
class InvestigationFact:
    hall_id: int | None  # None: about a jurisdiction, not a hall (counted in the deployment's report)
    assigned: bool
    reported: bool
    on_time: bool
    open_past_due: bool
    open_within_due: bool


@dataclass(frozen=True)
class Names:
    halls: Mapping[int, tuple[str, str]]  # id -> (code, name)
    hall_ids: Mapping[str, int]  # code -> id
    departments: Mapping[int, tuple[str, str, int]]  # id -> (code, name, hall id)
    department_ids: Mapping[str, int]  # code -> id
    items: Mapping[int, tuple[str, str]]
    regions: Mapping[str, int]  # code -> id (the patrol bodies)


@dataclass
class Facts:
    month: Month
    until: date
    within: Jurisdiction
    cases: list[CaseFact]
    raised: list[Count]  # signals raised in the month, kind = the colour raised with
    escalated: list[Count]  # kind = the colour the escalated signal was raised with
    corrections: list[Correction]
    investigations: list[InvestigationFact]
    ratings: list[FigureRow]
    absences: list[Count]  # kind = status
    bodies: list[BodyCompliance]
    findings: list[Count]  # department None; kind = "category/status"
    scores: list[ScoreFact]
    names: Names


def _signal_counts(session: Session, month: Month, within: Jurisdiction) -> tuple[list[Count], list[Count]]:
    where = within.clause(hall_id=Signal.hall_id, department_id=Signal.department_id)
    raised = session.execute(
        select(Signal.hall_id, Signal.department_id, Signal.initial_color, func.count())
        .where(where, Signal.issued_on >= month.first, Signal.issued_on <= month.last)
        .group_by(Signal.hall_id, Signal.department_id, Signal.initial_color)
    )
    escalated = session.execute(
        select(Signal.hall_id, Signal.department_id, Signal.initial_color, func.count())
        .where(where, Signal.escalated_at >= month.start_utc, Signal.escalated_at < month.end_utc)
        .group_by(Signal.hall_id, Signal.department_id, Signal.initial_color)
    )
    return (
        [Count(hall, dept, str(color), int(n)) for hall, dept, color, n in raised],
        [Count(hall, dept, str(color), int(n)) for hall, dept, color, n in escalated],
    )


def _corrections(session: Session, month: Month, within: Jurisdiction) -> list[Correction]:
    rows = session.execute(
        select(Signal.hall_id, Signal.department_id, Signal.issued_at, SignalEvent.at)
        .join(SignalEvent, SignalEvent.signal_id == Signal.id)
        .where(
            within.clause(hall_id=Signal.hall_id, department_id=Signal.department_id),
            SignalEvent.action == SignalAction.CORRECT.value,
            SignalEvent.at >= month.start_utc,
            SignalEvent.at < month.end_utc,
        )
    )
    return [
        Correction(hall, dept, max(0.0, (corrected - issued).total_seconds() / 3600))
        for hall, dept, issued, corrected in rows
    ]


def _investigations(
    session: Session, month: Month, until: date, within: Jurisdiction
) -> list[InvestigationFact]:
    rows = session.execute(
        select(
            Investigation.hall_id,
            Investigation.assigned_on,
            Investigation.due_date,
            Investigation.reported_at,
        ).where(
            within.clause(hall_id=Investigation.hall_id, department_id=Investigation.department_id),
            Investigation.assigned_on <= until,
            or_(
                Investigation.assigned_on >= month.first,
                Investigation.reported_at.is_(None),
                Investigation.reported_at >= month.start_utc,
            ),
        )
    )
    found = []
    for hall, assigned_on, due, reported_at in rows:
        reported_on = shanghai_date(reported_at) if reported_at is not None else None
        reported = reported_on is not None and month.first <= reported_on <= month.last
        still_open = reported_on is None or reported_on > until
        found.append(
            InvestigationFact(
                hall_id=hall,
                assigned=assigned_on >= month.first,
                reported=reported,
                on_time=reported and reported_on is not None and reported_on <= due,
                open_past_due=still_open and due < until,
                open_within_due=still_open and due >= until,
            )
        )
    return found


def _absences(session: Session, month: Month, within: Jurisdiction) -> list[Count]:
    rows = session.execute(
        select(AbsenceEvent.hall_id, AbsenceEvent.department_id, AbsenceEvent.status, func.count())
        .where(
            within.clause(hall_id=AbsenceEvent.hall_id, department_id=AbsenceEvent.department_id),
            AbsenceEvent.started_at >= month.start_utc,
            AbsenceEvent.started_at < month.end_utc,
        )
        .group_by(AbsenceEvent.hall_id, AbsenceEvent.department_id, AbsenceEvent.status)
    )
    return [Count(hall, dept, str(status), int(n)) for hall, dept, status, n in rows]


def _findings(session: Session, month: Month, within: Jurisdiction) -> list[Count]:
    rows = session.execute(
        select(PatrolFinding.hall_id, PatrolFinding.category, PatrolFinding.status, func.count())
        .where(
            within.clause(hall_id=PatrolFinding.hall_id, department_id=None),
            PatrolFinding.at >= month.start_utc,
            PatrolFinding.at < month.end_utc,
        )
        .group_by(PatrolFinding.hall_id, PatrolFinding.category, PatrolFinding.status)
    )
    return [Count(hall, None, f"{category}/{status}", int(n)) for hall, category, status, n in rows]


def _names(session: Session, within: Jurisdiction, cases: list[CaseFact]) -> Names:
    halls = {
        hid: (code, name)
        for hid, code, name in session.execute(
            select(Hall.id, Hall.code, Hall.name).where(within.clause(hall_id=Hall.id, department_id=None))
        )
    }
    departments = {
        did: (code, name, hall)
        for did, code, name, hall in session.execute(
            select(Department.id, Department.code, Department.name, Department.hall_id).where(
                within.clause(hall_id=Department.hall_id, department_id=Department.id)
            )
        )
    }
    item_ids = sorted({fact.item_id for fact in cases})
    items: dict[int, tuple[str, str]] = {}
    for start in range(0, len(item_ids), 5000):  # bound parameters per statement (SQLite)
        batch = item_ids[start : start + 5000]
        items.update(
            {
                iid: (code, name)
                for iid, code, name in session.execute(
                    select(Item.id, Item.code, Item.name).where(Item.id.in_(batch))
                )
            }
        )
    regions = {code: rid for rid, code in session.execute(select(Region.id, Region.code))}
    return Names(
        halls=halls,
        hall_ids={code: hid for hid, (code, _name) in halls.items()},
        departments=departments,
        department_ids={code: did for did, (code, _n, _h) in departments.items()},
        items=items,
        regions=regions,
    )


def collect(
    session: Session,
    *,
    month: Month,
    until: date,
    today: date,
    within: Jurisdiction,
    calendar: WorkCalendar,
    groups: Mapping[str, list[int]],
    default_profile: str,
) -> Facts:
    """Gather the month's facts inside `within` (the deployment's scope gathers everything)."""
    cases = case_facts(
        session,
        month=month,
        until=until,
        within=within,
        calendar=calendar,
        groups=groups,
        default_key=default_profile,
    )
    raised, escalated = _signal_counts(session, month, within)
    ratings = satisfaction_figures(
        session,
        within=within,
        by=FigureBy.DEPARTMENT,
        date_from=month.first,
        date_to=month.last,
        default_profile=default_profile,
    ).rows
    bodies = compliance_month(session, month=month.first, within=within, today=today).bodies
    return Facts(
        month=month,
        until=until,
        within=within,
        cases=cases,
        raised=raised,
        escalated=escalated,
        corrections=_corrections(session, month, within),
        investigations=_investigations(session, month, until, within),
        ratings=ratings,
        absences=_absences(session, month, within),
        bodies=bodies,
        findings=_findings(session, month, within),
        scores=score_facts(session, month=month, within=within),
        names=_names(session, within, cases),
    )


def in_scope(scope: Jurisdiction, hall_id: int | None) -> bool:
    """A fact of this hall belongs to the scope (one about no hall only to the deployment's)."""
    if scope.kind is ScopeKind.DEPLOYMENT:
        return True
    return hall_id is not None and hall_id in scope.hall_ids


__all__ = ["Correction", "Count", "Facts", "InvestigationFact", "Names", "collect", "in_scope"]
