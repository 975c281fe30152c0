"""What a hall's screens show of each case, and the day's figures: built from the records, masked
here and nowhere else (`common.masking`), serialised once as the JSON every client gets."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from central.cases.labels import STATUS_LABELS
from central.cases.lifecycle import CaseStatus
from central.cases.lights import OPEN_VALUES, light_expression
from central.cases.models import Case
from central.cases.references import chunks
from central.core.clock import shanghai_date
from central.ratings.models import Rating
from central.registry.models import Department, Item, ServiceWindow, Staff
from common.masking import mask_applicant, public_staff
from common.public_feed import HallSummary, PublicCase
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

SATISFIED_LEVEL = 4  # 满意 and 非常满意 (5 … 1, ratings.models.Rating)


def hall_light(*, profile_key: str, now: datetime, calendar: WorkCalendar) -> ColumnElement[str | None]:
    """The light of a hall's cases today under its rule profile (one SQL expression; the caller looks
    the hall's profile up once for every query that needs it)."""
    return light_expression(
        as_of=shanghai_date(now), calendar=calendar, halls_by_profile={}, default_key=profile_key
    )


def _on_screen(today: date) -> ColumnElement[bool]:
    """Open cases, and those closed today (the board shows them done until the day ends)."""
    return or_(Case.status.in_(OPEN_VALUES), Case.closed_on == today)


def public_rows(
    session: Session,
    *,
    hall_id: int,
    now: datetime,
    light: ColumnElement[str | None],
    case_ids: Collection[int] | None = None,
    on_screen_only: bool = True,
) -> dict[int, PublicCase]:
    """The masked row of every case of the hall on its screens now (or of `case_ids` among them; with
    `on_screen_only` False, of `case_ids` whatever their state: the kiosk's lookup); `light` is
    `hall_light`'s."""
    today = shanghai_date(now)
    query = (
        select(
            Case.id,
            Case.case_no,
            Case.status,
            Case.applicant_name,
            Case.accepted_on,
            Case.promised_due_date,
            Case.closed_on,
            Case.last_event_at,
            Item.name,
            Department.name,
            ServiceWindow.name,
            Staff.name,
            Staff.code,
            light.label("light"),
        )
        .join(Item, Item.id == Case.item_id)
        .join(Department, Department.id == Case.department_id)
        .outerjoin(ServiceWindow, ServiceWindow.id == Case.window_id)
        .outerjoin(Staff, Staff.id == Case.staff_id)
        .where(Case.hall_id == hall_id, *([_on_screen(today)] if on_screen_only else []))
    )
    rows: dict[int, PublicCase] = {}
    groups: list[Sequence[int] | None] = [None] if case_ids is None else list(chunks(sorted(case_ids)))
    for ids in groups:
        for row in session.execute(query if ids is None else query.where(Case.id.in_(ids))):
            rows[int(row[0])] = _public_case(tuple(row))
    return rows


def _public_case(row: tuple[object, ...]) -> PublicCase:
    (_id, case_no, status, applicant, accepted_on, due, closed_on, updated, item, department, window,
     staff_name, staff_code, light) = row  # fmt: skip
    return PublicCase(
        case_no=str(case_no),
        item=str(item),
        department=str(department),
        window=str(window) if window else None,
        staff=public_staff(str(staff_name), str(staff_code) if staff_code else None) if staff_name else None,
        applicant=mask_applicant(str(applicant)) if applicant else None,
        status=str(status),
        stage=STATUS_LABELS[CaseStatus(str(status))],
        accepted_on=accepted_on,
        due_date=due,
        light=light,
        closed_on=closed_on,
        updated_at=updated,
    )


def hall_summary(
    session: Session, *, hall_id: int, now: datetime, light: ColumnElement[str | None]
) -> HallSummary:
    """Today's figures (Asia/Shanghai day): received, completed, open and overdue now, ratings."""
    today = shanghai_date(now)
    of_hall = Case.hall_id == hall_id
    received = session.scalar(select(func.count()).where(of_hall, Case.accepted_on == today)) or 0
    completed = (
        session.scalar(
            select(func.count()).where(
                of_hall, Case.status == CaseStatus.COMPLETED.value, Case.closed_on == today
            )
        )
        or 0
    )
    open_now, overdue = session.execute(
        select(func.count(), func.count().filter(light == "red")).where(of_hall, Case.status.in_(OPEN_VALUES))
    ).one()
    ratings, satisfied = session.execute(
        select(func.count(), func.count().filter(Rating.level >= SATISFIED_LEVEL)).where(
            Rating.hall_id == hall_id, Rating.rated_on == today, Rating.excluded.is_(False)
        )
    ).one()
    return HallSummary(
        day=today,
        received=received,
        completed=completed,
        overdue=overdue,
        open=open_now,
        ratings=ratings,
        satisfied=satisfied,
        satisfaction=round(satisfied / ratings, 4) if ratings else None,
    )
