"""The records of one Shanghai day that per-record and run rules count: one set-based query per kind
(see `central.scores.sources` for which day a record counts on and whom it belongs to)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from central.cases.models import Case
from central.complaints.models import Complaint
from central.investigations.models import Investigation
from central.patrols.findings_kinds import FindingStatus
from central.patrols.models import PatrolFinding
from central.ratings.figures import bad_threshold
from central.ratings.models import FollowUp, Rating
from central.registry.models import ServiceWindow
from central.scores.scope import Record, Scope, day_bounds, not_excluded
from central.signals.models import Signal
from central.video.labels import AbsenceStatus
from central.video.models import AbsenceEvent
from common.profiles.scoring import ScoreSource

logger = logging.getLogger(__name__)


def day_record_list(
    session: Session, *, day: date, as_of: datetime, scope: Scope, default_profile_key: str
) -> list[Record]:
    """Every record of `day` the rules count, as it stood at `as_of`."""
    start, end = day_bounds(day)
    return [
        *_signals(session, day=day, start=start, end=end, as_of=as_of, scope=scope),
        *_fault_findings(session, start=start, end=end, as_of=as_of, scope=scope),
        *_bad_ratings(session, day=day, as_of=as_of, scope=scope, default_profile_key=default_profile_key),
        *_overdue_rectifications(session, day=day, as_of=as_of, scope=scope),
        *_absences(session, start=start, end=end, as_of=as_of, scope=scope),
        *_patrol_findings(session, start=start, end=end, as_of=as_of, scope=scope),
        *_overdue_investigations(session, day=day, as_of=as_of, scope=scope),
        *_complaints(session, day=day, start=start, end=end, as_of=as_of, scope=scope),
    ]


def _signal_rows(session: Session, query: Select[Any], scope: Scope) -> Iterable[Any]:
    """Signals with the window and clerk of their case, or of the finding or absence behind them."""
    finding = aliased(PatrolFinding)
    absence = aliased(AbsenceEvent)
    window = func.coalesce(Case.window_id, finding.window_id, absence.window_id)
    query = (
        query.add_columns(
            Signal.id, Signal.reason_code, Signal.hall_id, Signal.department_id, window, Case.staff_id
        )
        .outerjoin(Case, Case.id == Signal.case_id)
        .outerjoin(finding, finding.signal_id == Signal.id)
        .outerjoin(absence, absence.signal_id == Signal.id)
        .where(
            scope.clause(
                hall=Signal.hall_id, department=Signal.department_id, window=window, staff=Case.staff_id
            )
        )
        .order_by(Signal.id)
    )
    return session.execute(query)


def _signals(
    session: Session, *, day: date, start: datetime, end: datetime, as_of: datetime, scope: Scope
) -> list[Record]:
    """Signals issued on the day (a warning of any colour; a yellow one; one issued red) and those
    that turned red on the day (a yellow escalated)."""
    found: list[Record] = []
    issued = select().select_from(Signal).where(Signal.issued_on == day, Signal.issued_at <= as_of)
    issued = issued.add_columns(Signal.initial_color)
    for row in _signal_rows(session, issued, scope):
        colour, signal_id, reason, hall, department, window, staff = row
        found.append(
            Record(ScoreSource.WARNING, reason, "signal", signal_id, hall, department, window, staff)
        )
        if colour == "yellow":
            found.append(
                Record(
                    ScoreSource.YELLOW_SIGNAL, reason, "signal", signal_id, hall, department, window, staff
                )
            )
        elif colour == "red":
            found.append(
                Record(ScoreSource.RED_SIGNAL, reason, "signal", signal_id, hall, department, window, staff)
            )
    escalated = (
        select()
        .select_from(Signal)
        .where(
            Signal.escalated_at >= start,
            Signal.escalated_at < end,
            Signal.escalated_at <= as_of,
            Signal.initial_color == "yellow",
        )
    )
    for signal_id, reason, hall, department, window, staff in _signal_rows(session, escalated, scope):
        found.append(
            Record(ScoreSource.RED_SIGNAL, reason, "signal", signal_id, hall, department, window, staff)
        )
    return found


def _fault_findings(
    session: Session, *, start: datetime, end: datetime, as_of: datetime, scope: Scope
) -> list[Record]:
    """Signals closed on the day with the finding "fault", and investigations with no signal or
    complaint behind them reported on the day with that finding (SZ-13): an investigation of a
    signal is the signal's, one of a complaint the complaint's."""
    closed = (
        select()
        .select_from(Signal)
        .where(Signal.closed_at >= start, Signal.closed_at < end, Signal.closed_at <= as_of)
        .where(Signal.finding == "fault")
    )
    found = [
        Record(ScoreSource.FAULT_FINDING, reason, "signal", signal_id, hall, department, window, staff)
        for signal_id, reason, hall, department, window, staff in _signal_rows(session, closed, scope)
    ]
    of_complaint = select(Complaint.id).where(Complaint.investigation_id == Investigation.id).exists()
    investigations = select(Investigation.id, Investigation.hall_id, Investigation.department_id).where(
        Investigation.signal_id.is_(None),
        ~of_complaint,  # a complaint's investigation is the complaint's: its outcome counts
        Investigation.finding == "fault",
        Investigation.reported_at >= start,
        Investigation.reported_at < end,
        Investigation.reported_at <= as_of,
        Investigation.hall_id.is_not(None),
        scope.clause(
            hall=Investigation.hall_id, department=Investigation.department_id, window=None, staff=None
        ),
    )
    found += [
        Record(ScoreSource.FAULT_FINDING, None, "investigation", row_id, hall or 0, department, None, None)
        for row_id, hall, department in session.execute(investigations.order_by(Investigation.id))
    ]
    return found


def _bad_ratings(
    session: Session, *, day: date, as_of: datetime, scope: Scope, default_profile_key: str
) -> list[Record]:
    threshold = bad_threshold(session, default_profile=default_profile_key)
    department = func.coalesce(Rating.department_id, ServiceWindow.department_id)
    query = (
        select(Rating.id, Rating.hall_id, department, Rating.window_id, Rating.staff_id)
        .outerjoin(ServiceWindow, ServiceWindow.id == Rating.window_id)
        .where(Rating.rated_on == day, Rating.rated_at <= as_of, Rating.level <= threshold)
        .where(not_excluded(as_of))
        .where(
            scope.clause(
                hall=Rating.hall_id, department=department, window=Rating.window_id, staff=Rating.staff_id
            )
        )
        .order_by(Rating.id)
    )
    return [
        Record(ScoreSource.BAD_RATING, None, "rating", rating_id, hall, dept, window, staff)
        for rating_id, hall, dept, window, staff in session.execute(query)
    ]


def _overdue_rectifications(session: Session, *, day: date, as_of: datetime, scope: Scope) -> list[Record]:
    """A 差评's follow-up not rectified by its deadline counts on the first day after it."""
    deadline_end, _ = day_bounds(day)
    if deadline_end > as_of:
        return []
    department = func.coalesce(Rating.department_id, ServiceWindow.department_id)
    query = (
        select(FollowUp.id, Rating.hall_id, department, Rating.window_id, Rating.staff_id)
        .join(Rating, Rating.id == FollowUp.rating_id)
        .outerjoin(ServiceWindow, ServiceWindow.id == Rating.window_id)
        .where(FollowUp.rectify_due == day - timedelta(days=1))
        .where(or_(FollowUp.rectified_at.is_(None), FollowUp.rectified_at >= deadline_end))
        .where(not_excluded(as_of))
        .where(
            scope.clause(
                hall=Rating.hall_id, department=department, window=Rating.window_id, staff=Rating.staff_id
            )
        )
        .order_by(FollowUp.id)
    )
    return [
        Record(ScoreSource.RECTIFICATION_OVERDUE, None, "follow_up", row_id, hall, dept, window, staff)
        for row_id, hall, dept, window, staff in session.execute(query)
    ]


def _absences(
    session: Session, *, start: datetime, end: datetime, as_of: datetime, scope: Scope
) -> list[Record]:
    department = func.coalesce(AbsenceEvent.department_id, ServiceWindow.department_id)
    query = (
        select(AbsenceEvent.id, AbsenceEvent.hall_id, department, AbsenceEvent.window_id)
        .join(ServiceWindow, ServiceWindow.id == AbsenceEvent.window_id)
        .where(AbsenceEvent.reviewed_at >= start, AbsenceEvent.reviewed_at < end)
        .where(AbsenceEvent.status == AbsenceStatus.CONFIRMED, AbsenceEvent.reviewed_at <= as_of)
        .where(
            scope.clause(
                hall=AbsenceEvent.hall_id, department=department, window=AbsenceEvent.window_id, staff=None
            )
        )
        .order_by(AbsenceEvent.id)
    )
    return [
        Record(ScoreSource.CONFIRMED_ABSENCE, None, "absence", row_id, hall, dept, window, None)
        for row_id, hall, dept, window in session.execute(query)
    ]


def _patrol_findings(
    session: Session, *, start: datetime, end: datetime, as_of: datetime, scope: Scope
) -> list[Record]:
    department = ServiceWindow.department_id
    query = (
        select(
            PatrolFinding.id,
            PatrolFinding.category,
            PatrolFinding.hall_id,
            department,
            PatrolFinding.window_id,
        )
        .join(ServiceWindow, ServiceWindow.id == PatrolFinding.window_id)
        .where(PatrolFinding.reviewed_at >= start, PatrolFinding.reviewed_at < end)
        .where(PatrolFinding.status == FindingStatus.CONFIRMED, PatrolFinding.reviewed_at <= as_of)
        .where(
            scope.clause(
                hall=PatrolFinding.hall_id, department=department, window=PatrolFinding.window_id, staff=None
            )
        )
        .order_by(PatrolFinding.id)
    )
    return [
        Record(ScoreSource.PATROL_FINDING, category, "patrol_finding", row_id, hall, dept, window, None)
        for row_id, category, hall, dept, window in session.execute(query)
    ]


def _overdue_investigations(session: Session, *, day: date, as_of: datetime, scope: Scope) -> list[Record]:
    """An investigation not reported by its due date counts on the first day after it (SC-9). It is
    passed to a bureau, so it belongs to the hall and department it is about, never to a clerk."""
    due_end, _ = day_bounds(day)
    if due_end > as_of:
        return []
    query = (
        select(Investigation.id, Investigation.hall_id, Investigation.department_id)
        .where(Investigation.due_date == day - timedelta(days=1), Investigation.hall_id.is_not(None))
        .where(or_(Investigation.reported_at.is_(None), Investigation.reported_at >= due_end))
        .where(Investigation.assigned_at < due_end)
        .where(
            scope.clause(
                hall=Investigation.hall_id, department=Investigation.department_id, window=None, staff=None
            )
        )
        .order_by(Investigation.id)
    )
    return [
        Record(ScoreSource.OVERDUE_INVESTIGATION, None, "investigation", row_id, hall or 0, dept, None, None)
        for row_id, hall, dept in session.execute(query)
    ]


def _complaints(
    session: Session, *, day: date, start: datetime, end: datetime, as_of: datetime, scope: Scope
) -> list[Record]:
    """A complaint found justified counts on the day its outcome was recorded, against what it was
    about (its staff member and window too); one not decided by its last day (SZ-14) on the first
    day after it, against its hall and department only (deciding is the supervisors' step, not a
    clerk's)."""
    found: list[Record] = []
    upheld = (
        select(
            Complaint.id, Complaint.hall_id, Complaint.department_id, Complaint.window_id, Complaint.staff_id
        )
        .where(Complaint.closed_at >= start, Complaint.closed_at < end, Complaint.closed_at <= as_of)
        .where(Complaint.upheld.is_(True))
        .where(
            scope.clause(
                hall=Complaint.hall_id,
                department=Complaint.department_id,
                window=Complaint.window_id,
                staff=Complaint.staff_id,
            )
        )
        .order_by(Complaint.id)
    )
    found += [
        Record(ScoreSource.COMPLAINT_UPHELD, None, "complaint", row_id, hall, dept, window, staff)
        for row_id, hall, dept, window, staff in session.execute(upheld)
    ]
    deadline_end, _ = day_bounds(day)
    if deadline_end > as_of:
        return found
    overdue = (
        select(Complaint.id, Complaint.hall_id, Complaint.department_id)
        .where(Complaint.decide_by == day - timedelta(days=1), Complaint.received_at < deadline_end)
        .where(or_(Complaint.decided_at.is_(None), Complaint.decided_at >= deadline_end))
        .where(
            scope.clause(hall=Complaint.hall_id, department=Complaint.department_id, window=None, staff=None)
        )
        .order_by(Complaint.id)
    )
    found += [
        Record(ScoreSource.COMPLAINT_OVERDUE, None, "complaint", row_id, hall, dept, None, None)
        for row_id, hall, dept in session.execute(overdue)
    ]
    return found
