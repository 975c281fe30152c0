"""The latest ratings of a jurisdiction, as the ratings dashboard lists them (excluded ones too,
marked 已剔除; burst ones marked 突发连按, unattended ones 无人在场)."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.cases.models import Case
from central.ratings.labels import level_label
from central.ratings.models import FollowUp, Rating
from central.ratings.schemas import RatingOut
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Hall, ServiceWindow, Staff

logger = logging.getLogger(__name__)


def recent_ratings(
    session: Session, *, within: Jurisdiction, date_from: date, date_to: date, limit: int
) -> list[RatingOut]:
    """The newest `limit` ratings rated in [date_from, date_to] inside `within`."""
    query = (
        select(
            Rating,
            Case.case_no,
            Hall.name,
            Department.name,
            ServiceWindow.name,
            Staff.name,
            FollowUp.id,
        )
        .join(Hall, Hall.id == Rating.hall_id)
        .outerjoin(Case, Case.id == Rating.case_id)
        .outerjoin(Department, Department.id == Rating.department_id)
        .outerjoin(ServiceWindow, ServiceWindow.id == Rating.window_id)
        .outerjoin(Staff, Staff.id == Rating.staff_id)
        .outerjoin(FollowUp, FollowUp.rating_id == Rating.id)
        .where(
            Rating.rated_on >= date_from,
            Rating.rated_on <= date_to,
            within.clause(hall_id=Rating.hall_id, department_id=Rating.department_id),
        )
        .order_by(Rating.rated_at.desc(), Rating.id.desc())
        .limit(limit)
    )
    return [
        RatingOut(
            id=rating.id,
            level=rating.level,
            level_label=level_label(rating.level),
            channel=rating.channel,
            rated_at=rating.rated_at,
            case_no=case_no,
            hall_name=hall_name,
            department_name=department_name,
            window_name=window_name,
            staff_name=staff_name,
            weight=rating.weight,
            burst=rating.burst,
            unattended=rating.unattended,
            excluded=rating.excluded,
            followup_id=followup_id,
        )
        for rating, case_no, hall_name, department_name, window_name, staff_name, followup_id in session.execute(
            query
        )
    ]


__all__ = ["recent_ratings"]
