"""Whom a record belongs to and which records a query keeps: the shapes the score queries share."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from central.approvals.models import ApprovalRequest
from central.core.clock import SHANGHAI
from central.ratings.models import Rating
from central.registry.models import Staff
from common.profiles.scoring import ScoreSource

logger = logging.getLogger(__name__)

Subject = tuple[str, int]  # (staff | window | department | hall, id)


@dataclass(frozen=True, slots=True)
class Record:
    """One counted record: what it is (`source`, with the reason or category a rule may narrow on),
    where it comes from (`kind`, `id`) and whom it belongs to."""

    source: ScoreSource
    tag: str | None
    kind: str  # signal | rating | follow_up | absence | patrol_finding | investigation | complaint
    id: int
    hall: int
    department: int | None
    window: int | None
    staff: int | None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The Shanghai day as an aware [start, end) range."""
    start = datetime.combine(day, time(), tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


class Scope:
    """Which records a query keeps: the halls being scored, and for the one-at-a-time baseline one
    subject (a staff member's own records, or those of the window they sit at that name no clerk)."""

    def __init__(
        self, session: Session, *, hall_ids: Collection[int] | None, subject: Subject | None
    ) -> None:
        self.hall_ids = None if hall_ids is None else sorted(hall_ids)
        self.subject = subject
        self.staff_window: int | None = None
        if subject is not None and subject[0] == "staff":
            self.staff_window = session.scalar(select(Staff.window_id).where(Staff.id == subject[1]))

    def clause(
        self,
        *,
        hall: Any,
        department: Any,
        window: Any,
        staff: Any,
    ) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        if self.hall_ids is not None:
            parts.append(hall.in_(self.hall_ids))
        if self.subject is not None:
            kind, subject_id = self.subject
            column = {"hall": hall, "department": department, "window": window}.get(kind)
            if kind != "staff":
                parts.append(false() if column is None else column == subject_id)
            elif staff is None:
                parts.append(false() if window is None else window == self.staff_window)
            else:
                parts.append(or_(staff == subject_id, and_(staff.is_(None), window == self.staff_window)))
        return and_(true(), *parts)


def not_excluded(as_of: datetime) -> ColumnElement[bool]:
    """Counted at `as_of`: never excluded, or excluded by an approval decided later."""
    decided = (
        select(ApprovalRequest.decided_at)
        .where(ApprovalRequest.id == Rating.excluded_by_approval_id)
        .scalar_subquery()
    )
    return or_(Rating.excluded.is_(False), decided > as_of)
