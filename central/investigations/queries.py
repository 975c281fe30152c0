"""Investigation reads inside the caller's jurisdiction, with the overdue flag (SC-9)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from central.access.models import User
from central.investigations.models import Investigation
from central.investigations.schemas import InvestigationPage, InvestigationPublic
from central.investigations.service import OPEN, visible_investigation
from central.registry.jurisdiction import Jurisdiction
from central.signals.lifecycle import Finding
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InvestigationFilters:
    status: str | None = None  # open | reported
    overdue: bool = False


def _filtered(
    query: Select[Investigation], *, within: Jurisdiction, filters: InvestigationFilters, today: date
) -> Select[Investigation]:
    query = query.where(
        within.clause(hall_id=Investigation.hall_id, department_id=Investigation.department_id)
    )
    if filters.status:
        query = query.where(Investigation.status == filters.status)
    if filters.overdue:
        query = query.where(Investigation.status == OPEN, Investigation.due_date < today)
    return query


def list_investigations(
    session: Session,
    *,
    within: Jurisdiction,
    filters: InvestigationFilters,
    today: date,
    calendar: WorkCalendar,
    page: int,
    page_size: int,
) -> InvestigationPage:
    base = _filtered(select(Investigation), within=within, filters=filters, today=today)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(
        base.order_by(Investigation.due_date, Investigation.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return InvestigationPage(
        total=total,
        page=page,
        page_size=page_size,
        items=[public_investigation(session, row, today=today, calendar=calendar) for row in rows],
    )


def get_investigation(
    session: Session, *, investigation_id: int, within: Jurisdiction, today: date, calendar: WorkCalendar
) -> InvestigationPublic:
    found = visible_investigation(session, investigation_id=investigation_id, within=within)
    return public_investigation(session, found, today=today, calendar=calendar)


def public_investigation(
    session: Session, row: Investigation, *, today: date, calendar: WorkCalendar
) -> InvestigationPublic:
    assigner = session.get(User, row.assigned_by_id)
    left: int | None = None
    if row.status == OPEN:
        try:
            left = calendar.workdays_between(today, row.due_date)
        except CalendarMissingError:
            left = None
    return InvestigationPublic(
        id=row.id,
        signal_id=row.signal_id,
        subject=row.subject,
        assigned_by=assigner.username if assigner else "?",
        assignee_scope=row.assignee_scope_code,
        assigned_at=row.assigned_at,
        due_date=row.due_date,
        extension_days=row.extension_days,
        extensions=row.extensions,
        status=row.status,
        overdue=row.status == OPEN and row.due_date < today,
        working_days_left=left,
        reported_at=row.reported_at,
        reported_by=row.reported_by,
        report=row.report,
        finding=Finding(row.finding) if row.finding else None,
    )
