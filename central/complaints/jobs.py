"""The periodic pass of complaints: an undecided complaint past its last working day to decide
(SZ-14) raises one yellow signal, reason ``complaint_overdue``, origin ``complaint``, with
``dedupe_key = 'complaint:<id>'``.

A source of the signal scheduler (`central.signals.scheduler.run_signals`, given
`COMPLAINT_SIGNAL_SOURCES` by its callers beside ratings' sources), run in its transaction: the
insert is ``ON CONFLICT (dedupe_key) DO NOTHING``, so a second run or a second instance adds nothing,
and the run's audit entry carries the count. First it gives a deadline to complaints received while
the calendar lacked a year, now that it may cover it.

The signal is placed at the complaint's department (its case's, window's, staff member's, or the one
named). A complaint about a whole hall has no department, and signals need one: it is logged and
counted as skipped, and stays flagged as overdue on the complaint pages.

Once an inspector decides the complaint after all (accepts or refuses it), the cause has gone: the
next pass corrects the yellow (`decided_complaint_signals`, a `CorrectingSource`), as it corrects a
light yellow whose case closed, with a timeline step naming the decision and its day; the pass's
audit entry counts it (``complaint_overdue_corrected``), the decision itself was audited when made,
and the ledger shows the signal as corrected. A decision after the yellow's `correct_by` day comes
too late (SZ-11): that yellow turns red and stays for its investigation.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import String, Table, exists, literal, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from central.complaints.labels import ComplaintStatus
from central.complaints.models import Complaint
from central.complaints.queries import overdue_clause
from central.complaints.service import decision_deadline
from central.core.clock import shanghai_date
from central.core.db import conflict_insert
from central.profiles.assignment import hall_profile_keys
from central.signals.lifecycle import AWAITING_CORRECTION, SignalStatus
from central.signals.models import Signal
from central.signals.reasons import Color, Origin
from central.signals.scheduler import CorrectingSource, SignalSource
from central.signals.service import correction_deadline
from central.signals.transitions import SIGNALS_ACTOR
from common.profiles.loader import get_profile
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

COMPLAINT_OVERDUE = "complaint_overdue"  # the reason, and the name the source is passed under
_KEY_PREFIX = "complaint:"
_signals = cast(Table, Signal.__table__)
_DECISION_LABELS = {
    ComplaintStatus.ACCEPTED.value: "受理",
    ComplaintStatus.CLOSED.value: "受理",  # accepted, then handled before the pass came by
    ComplaintStatus.REFUSED.value: "不予受理",
}


def dedupe_key(complaint_id: int) -> str:
    return f"{_KEY_PREFIX}{complaint_id}"


def fill_missing_deadlines(
    session: Session, *, calendar: WorkCalendar, keys: dict[int, str], default_profile: str
) -> int:
    rows = session.execute(
        select(Complaint.id, Complaint.hall_id, Complaint.received_on).where(
            Complaint.decide_by.is_(None), Complaint.status == ComplaintStatus.RECEIVED.value
        )
    ).all()
    filled = 0
    for complaint_id, hall_id, received_on in rows:
        workdays = get_profile(keys.get(hall_id, default_profile)).complaints.decide_within_workdays
        due = decision_deadline(calendar, received_on, workdays)
        if due is not None:
            session.execute(
                update(Complaint)
                .where(Complaint.id == complaint_id, Complaint.decide_by.is_(None))
                .values(decide_by=due)
            )
            filled += 1
    return filled


def raise_overdue_complaint_signals(
    session: Session, *, today: date, now: datetime, calendar: WorkCalendar, default_profile: str
) -> int:
    """One yellow signal per complaint undecided after its last day (as of `today`, Shanghai);
    returns how many were new. Does not commit (the scheduler's run does)."""
    keys = hall_profile_keys(session, default_key=default_profile)
    fill_missing_deadlines(session, calendar=calendar, keys=keys, default_profile=default_profile)
    has_signal = exists().where(
        _signals.c.dedupe_key == literal(_KEY_PREFIX) + sql_cast(Complaint.id, String)
    )
    candidates = session.execute(
        select(
            Complaint.id,
            Complaint.number,
            Complaint.hall_id,
            Complaint.department_id,
            Complaint.case_id,
            Complaint.decide_by,
        )
        .where(overdue_clause(today), ~has_signal)
        .order_by(Complaint.id)
    ).all()
    rows: list[dict[str, Any]] = []
    skipped = 0
    correct_by: dict[str, date | None] = {}
    for complaint_id, number, hall_id, department_id, case_id, decide_by in candidates:
        if department_id is None:
            skipped += 1
            continue
        key = keys.get(hall_id, default_profile)
        if key not in correct_by:
            workdays = get_profile(key).signals.yellow_correct_within_workdays
            correct_by[key] = correction_deadline(calendar, today, workdays)
        reason = f"投诉 {number} 应于 {decide_by.isoformat() if decide_by else '—'} 前作出是否受理的决定，逾期未决定（SZ-14）"
        rows.append(
            {
                "color": Color.YELLOW.value,
                "initial_color": Color.YELLOW.value,
                "origin": Origin.COMPLAINT.value,
                "reason_code": COMPLAINT_OVERDUE,
                "reason": reason,
                "dedupe_key": dedupe_key(complaint_id),
                "case_id": case_id,
                "hall_id": hall_id,
                "department_id": department_id,
                "status": SignalStatus.ISSUED.value,
                "issued_at": now,
                "issued_on": today,
                "issued_by": SIGNALS_ACTOR.label,
                "correct_by": correct_by[key],
                "updated_at": now,
            }
        )
    if skipped:
        logger.warning("%d overdue complaints are about no department: no signal for them", skipped)
    if not rows:
        return 0
    dialect_insert = conflict_insert(session)
    statement = dialect_insert(_signals).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = cast(CursorResult[Any], session.execute(statement.execution_options(preserve_rowcount=True)))
    issued = max(result.rowcount, 0)
    logger.info("%d overdue complaints raised signals as of %s", issued, today)
    return issued


def decided_complaint_signals(session: Session, *, today: date) -> dict[int, str]:
    """The overdue yellows, still awaiting correction, whose complaint has since been decided on or
    before the yellow's `correct_by` day: signal id -> why (zh-CN). Few rows: open complaint
    yellows only."""
    awaiting = session.execute(
        select(Signal.id, Signal.dedupe_key, Signal.correct_by).where(
            Signal.reason_code == COMPLAINT_OVERDUE,
            Signal.origin == Origin.COMPLAINT.value,
            Signal.status.in_(sorted(AWAITING_CORRECTION)),
        )
    ).all()
    by_complaint = {
        int(key.removeprefix(_KEY_PREFIX)): (signal_id, correct_by)
        for signal_id, key, correct_by in awaiting
        if key is not None and key.startswith(_KEY_PREFIX)
    }
    if not by_complaint:
        return {}
    decided = session.execute(
        select(Complaint.id, Complaint.number, Complaint.status, Complaint.decided_at).where(
            Complaint.id.in_(sorted(by_complaint)),
            Complaint.status != ComplaintStatus.RECEIVED.value,
            Complaint.decided_at.is_not(None),
        )
    ).all()
    notes: dict[int, str] = {}
    for complaint_id, number, status, decided_at in decided:
        signal_id, correct_by = by_complaint[complaint_id]
        assert decided_at is not None  # the query asks for it
        day = shanghai_date(decided_at)
        if correct_by is not None and day > correct_by:
            continue  # decided too late to count as the correction: the pass turns it red
        decision = _DECISION_LABELS.get(status, "受理")
        notes[signal_id] = f"投诉 {number} 已于 {day.isoformat()} 作出{decision}决定"
    if notes:
        logger.info("%d overdue complaint signals have their decision now, as of %s", len(notes), today)
    return notes


# What the signal pass computes for complaints, by the name its count is audited under: overdue
# complaints raise yellows, decided ones have theirs corrected.
COMPLAINT_SIGNAL_SOURCES: dict[str, SignalSource] = {
    COMPLAINT_OVERDUE: CorrectingSource(
        issue=raise_overdue_complaint_signals, ended=decided_complaint_signals
    )
}
