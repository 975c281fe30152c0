"""Complaints (SZ-14, SZ-15): received with a number and a query password, decided within the
profile's working days by an inspector over the hall, handled (passed down like an investigation,
SC-9), answered, closed. Every step but the receipt is a person's decision and is audited; the
receipt is audited too, without the complaint's personal data.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.roles import Permission
from central.audit.chain import record
from central.cases.models import Case
from central.cases.query_password import new_query_password, password_digest
from central.complaints.attachments import CheckedAttachment
from central.complaints.labels import ABOUT_LABELS, Channel, ComplaintAbout, ComplaintStatus
from central.complaints.models import Complaint, ComplaintAttachment
from central.complaints.schemas import AssignIn, CloseIn, ComplaintIn, DecisionIn
from central.core.actor import Actor
from central.core.clock import shanghai_date
from central.investigations.service import OPEN, audit_opened, new_investigation
from central.profiles.assignment import profile_for_hall
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Hall, ServiceWindow, Staff
from central.signals.service import SignalInputError
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)


class ComplaintNotFound(LookupError):
    """No such complaint in the caller's jurisdiction (a 404)."""


class ComplaintForbidden(PermissionError):
    """The caller may read it but not do this (a 403)."""


class ComplaintConflict(ValueError):
    """The complaint's state does not allow this (a 409)."""


class ComplaintInputError(ValueError):
    """What was sent names nothing here (a 422); the message is zh-CN."""


@dataclass(frozen=True)
class Receipt:
    complaint: Complaint
    password: str  # shown once to the complainant, stored only as a digest


def handles(principal: Principal, complaint: Complaint) -> bool:
    """The people handling it: inspectors (SIGNALS_SUPERVISE) whose jurisdiction covers its hall.
    They decide, assign, close, and read it unmasked; anyone else who may see it reads it masked."""
    return principal.may(Permission.SIGNALS_SUPERVISE) and principal.jurisdiction.covers_hall(
        complaint.hall_id
    )


def visible_complaint(session: Session, *, complaint_id: int, within: Jurisdiction) -> Complaint:
    found = session.scalars(
        select(Complaint).where(
            Complaint.id == complaint_id,
            within.clause(hall_id=Complaint.hall_id, department_id=Complaint.department_id),
        )
    ).first()
    if found is None:
        raise ComplaintNotFound(f"no complaint #{complaint_id}")
    return found


def decision_deadline(calendar: WorkCalendar, received_on: date, workdays: int) -> date | None:
    """The last working day to decide; None while the calendar lacks a year (filled in later)."""
    try:
        return calendar.add_workdays(received_on, workdays)
    except CalendarMissingError as exc:
        logger.warning("no decision deadline for a complaint of %s: years %s missing", received_on, exc.years)
        return None


def _new_number(session: Session, day: date) -> str:
    while True:  # a million numbers a day: a clash is rare, and checked
        number = f"TS{day:%Y%m%d}{secrets.randbelow(10**6):06d}"
        if session.scalar(select(Complaint.id).where(Complaint.number == number)) is None:
            return number


@dataclass(frozen=True)
class _Target:
    department_id: int | None = None
    window_id: int | None = None
    staff_id: int | None = None
    case_id: int | None = None


def _target(session: Session, *, body: ComplaintIn, hall: Hall) -> _Target:
    """What the complaint is about, found in its hall (what is complained about belongs to it)."""
    about = body.about
    if about is ComplaintAbout.CASE:
        case = session.scalar(select(Case).where(Case.case_no == body.case_no, Case.hall_id == hall.id))
        if case is None:
            raise ComplaintInputError(f"{hall.name}没有编号为“{body.case_no}”的办件。")
        return _Target(case.department_id, case.window_id, case.staff_id, case.id)
    if about is ComplaintAbout.WINDOW:
        window = session.scalar(
            select(ServiceWindow).where(ServiceWindow.code == body.window, ServiceWindow.hall_id == hall.id)
        )
        if window is None:
            raise ComplaintInputError(f"{hall.name}没有编号为“{body.window}”的窗口。")
        return _Target(window.department_id, window.id)
    if about is ComplaintAbout.STAFF:
        staff = session.scalar(
            select(Staff)
            .join(Department, Department.id == Staff.department_id)
            .where(Staff.code == body.staff, Department.hall_id == hall.id)
        )
        if staff is None:
            raise ComplaintInputError(f"{hall.name}没有工号为“{body.staff}”的工作人员。")
        return _Target(staff.department_id, staff.window_id, staff.id)
    if about is ComplaintAbout.DEPARTMENT:
        department = session.scalar(
            select(Department).where(Department.code == body.department, Department.hall_id == hall.id)
        )
        if department is None:
            raise ComplaintInputError(f"{hall.name}没有编号为“{body.department}”的部门。")
        return _Target(department.id)
    return _Target()


def receive_complaint(
    session: Session,
    *,
    body: ComplaintIn,
    attachments: Sequence[CheckedAttachment],
    channel: Channel,
    actor: Actor,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> Receipt:
    """Store a complaint with its number, password digest and decision deadline; audited (the
    receipt's facts only). Does not commit."""
    hall = session.scalar(select(Hall).where(Hall.code == body.hall))
    if hall is None:
        raise ComplaintInputError(f"没有编号为“{body.hall}”的服务中心。")
    target = _target(session, body=body, hall=hall)
    today = shanghai_date(now)
    profile = profile_for_hall(session, hall_id=hall.id, default_key=default_profile)
    number, password = _new_number(session, today), new_query_password()
    complaint = Complaint(
        number=number,
        query_password_digest=password_digest(number, password),
        channel=channel.value,
        about=body.about.value,
        hall_id=hall.id,
        department_id=target.department_id,
        window_id=target.window_id,
        staff_id=target.staff_id,
        case_id=target.case_id,
        anonymous=body.anonymous,
        complainant_name=body.name,
        complainant_phone=body.phone,
        content=body.content,
        received_at=now,
        received_on=today,
        decide_by=decision_deadline(calendar, today, profile.complaints.decide_within_workdays),
        status=ComplaintStatus.RECEIVED.value,
        updated_at=now,
        attachments=[
            ComplaintAttachment(
                filename=a.filename,
                media_type=a.media_type,
                size_bytes=len(a.data),
                sha256=a.sha256,
                data=a.data,
            )
            for a in attachments
        ],
    )
    session.add(complaint)
    session.flush()
    _audit(session, actor, "complaint.receive", complaint, now=now)
    logger.info("complaint %s received for hall %s (%s)", number, hall.code, body.about.value)
    return Receipt(complaint, password)


def _handled(session: Session, *, complaint_id: int, principal: Principal, doing: str) -> Complaint:
    complaint = visible_complaint(session, complaint_id=complaint_id, within=principal.jurisdiction)
    if not handles(principal, complaint):
        raise ComplaintForbidden(
            f"only inspectors whose jurisdiction covers the whole hall may {doing} complaint {complaint.number}"
        )
    return complaint


def decide_complaint(
    session: Session, *, complaint_id: int, body: DecisionIn, principal: Principal, now: datetime
) -> Complaint:
    """Accept, or refuse with reasons (SZ-14). Audited; does not commit."""
    complaint = _handled(session, complaint_id=complaint_id, principal=principal, doing="decide")
    if complaint.status != ComplaintStatus.RECEIVED:
        raise ComplaintConflict(f"complaint {complaint.number} was already decided ({complaint.status})")
    before = _facts(complaint)
    complaint.status = (ComplaintStatus.ACCEPTED if body.accept else ComplaintStatus.REFUSED).value
    complaint.decided_at, complaint.decided_by = now, principal.actor.label
    complaint.decision_note = body.reasons
    if not body.accept:
        complaint.closed_at, complaint.closed_by = now, principal.actor.label
    complaint.updated_at = now
    action = "complaint.accept" if body.accept else "complaint.refuse"
    _audit(session, principal.actor, action, complaint, now=now, before=before)
    return complaint


def assign_complaint(
    session: Session,
    *,
    complaint_id: int,
    body: AssignIn,
    principal: Principal,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> Complaint:
    """Pass an accepted complaint down for investigation (SC-9): an investigation with the profile's
    deadline, reported like any other. Audited; does not commit."""
    complaint = _handled(session, complaint_id=complaint_id, principal=principal, doing="assign")
    if complaint.status != ComplaintStatus.ACCEPTED:
        raise ComplaintConflict(
            f"complaint {complaint.number} is {complaint.status}: only accepted ones are assigned"
        )
    if complaint.investigation_id is not None:
        raise ComplaintConflict(f"complaint {complaint.number} is already assigned")
    about = ABOUT_LABELS[complaint.about]
    try:
        investigation = new_investigation(
            session,
            subject=body.subject or f"投诉 {complaint.number}（关于{about}）的调查核实",
            assignee_scope=body.assignee_scope,
            principal=principal,
            hall_id=complaint.hall_id,
            department_id=complaint.department_id,
            signal_id=None,
            now=now,
            calendar=calendar,
            default_profile=default_profile,
        )
    except SignalInputError as exc:
        raise ComplaintInputError(str(exc)) from exc
    before = _facts(complaint)
    complaint.investigation_id, complaint.updated_at = investigation.id, now
    audit_opened(session, actor=principal.actor, investigation=investigation, now=now)
    _audit(session, principal.actor, "complaint.assign", complaint, now=now, before=before)
    return complaint


def close_complaint(
    session: Session, *, complaint_id: int, body: CloseIn, principal: Principal, now: datetime
) -> Complaint:
    """Record the findings, the reply and whether it was justified; the complaint is closed. An
    investigation of it must have reported first. Audited; does not commit."""
    complaint = _handled(session, complaint_id=complaint_id, principal=principal, doing="close")
    if complaint.status != ComplaintStatus.ACCEPTED:
        raise ComplaintConflict(
            f"complaint {complaint.number} is {complaint.status}: only accepted ones are closed"
        )
    if complaint.investigation is not None and complaint.investigation.status == OPEN:
        raise ComplaintConflict(
            f"investigation #{complaint.investigation.id} of complaint {complaint.number} has not reported yet"
        )
    before = _facts(complaint)
    complaint.status = ComplaintStatus.CLOSED.value
    complaint.findings, complaint.reply, complaint.upheld = body.findings, body.reply, body.upheld
    complaint.closed_at, complaint.closed_by, complaint.updated_at = now, principal.actor.label, now
    _audit(session, principal.actor, "complaint.close", complaint, now=now, before=before)
    return complaint


def _facts(complaint: Complaint) -> dict[str, object]:
    """What the audit keeps of a complaint: its state and decisions, never the complainant's name,
    phone or text (personal data stays in the complaint's row)."""
    return {
        "number": complaint.number,
        "status": complaint.status,
        "hall_id": complaint.hall_id,
        "department_id": complaint.department_id,
        "about": complaint.about,
        "anonymous": complaint.anonymous,
        "attachments": [a.sha256 for a in complaint.attachments],
        "decide_by": complaint.decide_by.isoformat() if complaint.decide_by else None,
        "decision_note": complaint.decision_note,
        "investigation_id": complaint.investigation_id,
        "findings": complaint.findings,
        "reply": complaint.reply,
        "upheld": complaint.upheld,
    }


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    complaint: Complaint,
    *,
    now: datetime,
    before: object = None,
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        target_type="complaint",
        target_id=complaint.number,
        before=before,
        after=_facts(complaint),
        at=now,
    )
