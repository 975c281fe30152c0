"""Reading follow-ups of 差评 (HCP), always inside the caller's jurisdiction (in the SQL)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, func, select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.cases.models import Case
from central.ratings.followups import allowed_steps, visible_followup
from central.ratings.labels import FOLLOWUP_STATUS_LABELS, UNRECTIFIED, FollowUpStatus, level_label
from central.ratings.models import FollowUp, Rating
from central.ratings.schemas import FollowUpOut, FollowUpPage
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Hall, ServiceWindow, Staff

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class FollowUpFilters:
    within: Jurisdiction
    status: FollowUpStatus | None = None
    overdue: bool = False  # only those not rectified past their deadline
    hall_code: str | None = None
    department_code: str | None = None
    rated_from: date | None = None  # Shanghai days of the 差评, inclusive
    rated_to: date | None = None


def overdue_clause(today: date) -> ColumnElement[bool]:
    """Not rectified, past its last working day, and its 差评 still counts."""
    return and_(
        FollowUp.status.in_(sorted(UNRECTIFIED)),
        FollowUp.rectify_due < today,
        Rating.excluded.is_(False),
    )


def is_overdue(followup: FollowUp, rating: Rating, today: date) -> bool:
    return (
        followup.status in UNRECTIFIED
        and followup.rectify_due is not None
        and followup.rectify_due < today
        and not rating.excluded
    )


def _select() -> Select[*tuple[Any, ...]]:
    return (
        select(
            FollowUp,
            Rating,
            Hall.code,
            Hall.name,
            Department.code,
            Department.name,
            ServiceWindow.code,
            ServiceWindow.name,
            Staff.code,
            Staff.name,
            Case.case_no,
        )
        .join(Rating, Rating.id == FollowUp.rating_id)
        .join(Hall, Hall.id == FollowUp.hall_id)
        .outerjoin(Department, Department.id == FollowUp.department_id)
        .outerjoin(ServiceWindow, ServiceWindow.id == Rating.window_id)
        .outerjoin(Staff, Staff.id == Rating.staff_id)
        .outerjoin(Case, Case.id == Rating.case_id)
    )


def _filtered(
    query: Select[*tuple[Any, ...]], filters: FollowUpFilters, today: date
) -> Select[*tuple[Any, ...]]:
    query = query.where(filters.within.clause(hall_id=FollowUp.hall_id, department_id=FollowUp.department_id))
    if filters.status is not None:
        query = query.where(FollowUp.status == filters.status.value)
    if filters.overdue:
        query = query.where(overdue_clause(today))
    if filters.hall_code:
        query = query.where(Hall.code == filters.hall_code)
    if filters.department_code:
        query = query.where(Department.code == filters.department_code)
    if filters.rated_from:
        query = query.where(Rating.rated_on >= filters.rated_from)
    if filters.rated_to:
        query = query.where(Rating.rated_on <= filters.rated_to)
    return query


def _out(row: Row[*tuple[Any, ...]], *, principal: Principal, today: date) -> FollowUpOut:
    followup: FollowUp = row[0]
    rating: Rating = row[1]
    hall_code, hall_name, dept_code, dept_name, window_code, window_name, staff_code, staff_name, case_no = (
        row[2:]
    )
    return FollowUpOut(
        id=followup.id,
        rating_id=rating.id,
        level=rating.level,
        level_label=level_label(rating.level),
        rating_text=rating.text,
        channel=rating.channel,
        rated_at=rating.rated_at,
        rated_on=rating.rated_on,
        burst=rating.burst,
        unattended=rating.unattended,
        excluded=rating.excluded,
        excluded_by_approval_id=rating.excluded_by_approval_id,
        case_no=case_no,
        hall_code=hall_code,
        hall_name=hall_name,
        department_code=dept_code,
        department_name=dept_name,
        window_code=window_code,
        window_name=window_name,
        staff_code=staff_code,
        staff_name=staff_name,
        status=FollowUpStatus(followup.status),
        status_label=FOLLOWUP_STATUS_LABELS.get(followup.status, followup.status),
        opened_at=followup.opened_at,
        rectify_due=followup.rectify_due,
        overdue=is_overdue(followup, rating, today),
        callback_at=followup.callback_at,
        callback_by=followup.callback_by,
        callback_result=followup.callback_result,
        rectified_at=followup.rectified_at,
        rectified_by=followup.rectified_by,
        rectification=followup.rectification,
        rerating_level=followup.rerating_level,
        closed_at=followup.closed_at,
        allowed_steps=allowed_steps(principal, followup, rating),
    )


def list_followups(
    session: Session,
    *,
    principal: Principal,
    filters: FollowUpFilters,
    today: date,
    page: int,
    page_size: int,
) -> FollowUpPage:
    """One page of follow-ups, newest first; `today` (Shanghai) decides which are overdue."""
    query = _filtered(_select(), filters, today)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(FollowUp.opened_at.desc(), FollowUp.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = [_out(row, principal=principal, today=today) for row in rows]
    return FollowUpPage(as_of=today, total=total, page=page, page_size=page_size, items=items)


def get_followup(session: Session, *, principal: Principal, followup_id: int, today: date) -> FollowUpOut:
    """One follow-up (404 `FollowUpError` outside the caller's jurisdiction)."""
    followup, _rating = visible_followup(session, followup_id=followup_id, within=principal.jurisdiction)
    row = session.execute(_select().where(FollowUp.id == followup.id)).one()
    return _out(row, principal=principal, today=today)


def followup_of_rating(session: Session, *, rating_id: int) -> int | None:
    return session.scalar(select(FollowUp.id).where(FollowUp.rating_id == rating_id))


__all__ = [
    "FollowUpFilters",
    "followup_of_rating",
    "get_followup",
    "is_overdue",
    "list_followups",
    "overdue_clause",
]
