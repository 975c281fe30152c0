"""Complaint reads: the staff's list and detail inside their jurisdiction (masked unless they handle
it), and the complainant's status by number and password."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, selectinload

from central.access.deps import Principal
from central.complaints.labels import (
    ABOUT_LABELS,
    STATUS_LABELS,
    ComplaintAbout,
    ComplaintStatus,
    outcome_label,
)
from central.complaints.models import Complaint
from central.complaints.schemas import (
    AttachmentOut,
    ComplaintChoices,
    ComplaintOut,
    ComplaintPage,
    ComplaintStatusPublic,
    InvestigationBrief,
    TargetChoice,
)
from central.complaints.service import handles, visible_complaint
from central.investigations.service import OPEN
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Hall, ServiceWindow
from common.masking import mask_person_name, mask_phone, public_staff, scrub_identifiers
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ComplaintFilters:
    status: ComplaintStatus | None = None
    overdue: bool = False  # only those undecided past their last day
    hall_id: int | None = None


def overdue_clause(today: date) -> ColumnElement[bool]:
    """Undecided after its last working day to decide (SZ-14)."""
    return and_(Complaint.status == ComplaintStatus.RECEIVED.value, Complaint.decide_by < today)


def _filtered(
    query: Select[Complaint], *, within: Jurisdiction, filters: ComplaintFilters, today: date
) -> Select[Complaint]:
    query = query.where(within.clause(hall_id=Complaint.hall_id, department_id=Complaint.department_id))
    if filters.status is not None:
        query = query.where(Complaint.status == filters.status.value)
    if filters.overdue:
        query = query.where(overdue_clause(today))
    if filters.hall_id is not None:
        query = query.where(Complaint.hall_id == filters.hall_id)
    return query


def list_complaints(
    session: Session,
    *,
    principal: Principal,
    filters: ComplaintFilters,
    today: date,
    calendar: WorkCalendar,
    page: int,
    page_size: int,
) -> ComplaintPage:
    """Newest first; undecided ones first of all (their days run)."""
    base = _filtered(select(Complaint), within=principal.jurisdiction, filters=filters, today=today)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    waiting = (Complaint.status == ComplaintStatus.RECEIVED.value).desc()
    related = (Complaint.hall, Complaint.department, Complaint.window, Complaint.staff, Complaint.case)
    rows = session.scalars(
        base.options(*(selectinload(r) for r in related), selectinload(Complaint.investigation))
        .order_by(waiting, Complaint.received_at.desc(), Complaint.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = [complaint_out(row, principal=principal, today=today, calendar=calendar) for row in rows]
    return ComplaintPage(total=total, page=page, page_size=page_size, items=items)


def get_complaint(
    session: Session, *, complaint_id: int, principal: Principal, today: date, calendar: WorkCalendar
) -> ComplaintOut:
    found = visible_complaint(session, complaint_id=complaint_id, within=principal.jurisdiction)
    return complaint_out(found, principal=principal, today=today, calendar=calendar)


def _days_left(calendar: WorkCalendar, today: date, row: Complaint) -> int | None:
    if row.status != ComplaintStatus.RECEIVED or row.decide_by is None:
        return None
    try:
        return calendar.workdays_between(today, row.decide_by)
    except CalendarMissingError:
        return None


def _investigation(row: Complaint, today: date) -> InvestigationBrief | None:
    found = row.investigation
    if found is None:
        return None
    return InvestigationBrief(
        id=found.id,
        assignee_scope=found.assignee_scope_code,
        due_date=found.due_date,
        status=found.status,
        overdue=found.status == OPEN and found.due_date < today,
        finding=found.finding,
        report=found.report,
    )


def _masked_text(content: str, name: str | None) -> str:
    """The text without ID and phone numbers, and without the complainant's own name where it
    appears whole (other names in free text cannot be told apart from words)."""
    text = scrub_identifiers(content)
    if name and len(name.strip()) >= 2:
        text = text.replace(name.strip(), mask_person_name(name))
    return text


def complaint_out(
    row: Complaint, *, principal: Principal, today: date, calendar: WorkCalendar
) -> ComplaintOut:
    """In full for the people handling it; otherwise the name masked (张*明), the phone masked
    (138****8000), ID and phone numbers and the complainant's name in the text and the attachments'
    names hidden."""
    full = handles(principal, row)
    name, phone = row.complainant_name, row.complainant_phone
    return ComplaintOut(
        id=row.id,
        number=row.number,
        channel=row.channel,
        about=ComplaintAbout(row.about),
        about_label=ABOUT_LABELS[row.about],
        hall_code=row.hall.code,
        hall_name=row.hall.name,
        department_code=row.department.code if row.department else None,
        department_name=row.department.name if row.department else None,
        window_name=row.window.name if row.window else None,
        staff=public_staff(row.staff.name, row.staff.code) if row.staff else None,
        case_no=row.case.case_no if row.case else None,
        anonymous=row.anonymous,
        complainant_name=name if full else (mask_person_name(name) if name else None),
        complainant_phone=phone if full else mask_phone(phone),
        content=row.content if full else _masked_text(row.content, name),
        masked=not full,
        handler=full,
        received_at=row.received_at,
        decide_by=row.decide_by,
        working_days_left=_days_left(calendar, today, row),
        overdue=row.status == ComplaintStatus.RECEIVED
        and row.decide_by is not None
        and row.decide_by < today,
        status=ComplaintStatus(row.status),
        status_label=STATUS_LABELS[row.status],
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        decision_note=row.decision_note,
        investigation=_investigation(row, today),
        findings=row.findings,
        reply=row.reply,
        upheld=row.upheld,
        outcome_label=outcome_label(row.upheld),
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        attachments=[
            AttachmentOut(
                id=a.id,
                filename=a.filename if full else f"附件 {index}",
                media_type=a.media_type,
                size_bytes=a.size_bytes,
                sha256=a.sha256,
            )
            for index, a in enumerate(row.attachments, start=1)
        ],
    )


def public_status(row: Complaint) -> ComplaintStatusPublic:
    """What the complainant's number and password show: the decision with its reasons, later the
    outcome and the reply; never the text, and no staff names."""
    refused = row.status == ComplaintStatus.REFUSED
    return ComplaintStatusPublic(
        number=row.number,
        hall=row.hall.name,
        about=ABOUT_LABELS[row.about],
        received_at=row.received_at,
        decide_by=row.decide_by,
        status=ComplaintStatus(row.status),
        status_label=STATUS_LABELS[row.status],
        decided_at=row.decided_at,
        refusal_reasons=row.decision_note if refused else None,
        closed_at=row.closed_at,
        outcome=outcome_label(row.upheld) or None,
        reply=row.reply,
    )


def hall_choices(session: Session, *, hall: Hall) -> ComplaintChoices:
    """The hall's windows (with their departments) and departments, by code: what the public form
    and the kiosk offer to complain about."""
    windows = session.execute(
        select(ServiceWindow.code, ServiceWindow.name, Department.name)
        .outerjoin(Department, Department.id == ServiceWindow.department_id)
        .where(ServiceWindow.hall_id == hall.id)
        .order_by(ServiceWindow.code)
    ).all()
    departments = session.execute(
        select(Department.code, Department.name)
        .where(Department.hall_id == hall.id)
        .order_by(Department.code)
    ).all()
    return ComplaintChoices(
        hall=hall.code,
        hall_name=hall.name,
        windows=[TargetChoice(code=code, name=name, department=dept) for code, name, dept in windows],
        departments=[TargetChoice(code=code, name=name) for code, name in departments],
    )
