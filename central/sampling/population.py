"""The population a draw samples: a month's closed cases in a scope, as the case log stood at a moment.

Closed (办结 in the wide sense): completed, refused, refused acceptance or revoked, the first such
event in the month (Shanghai). The kinds SZ-9 singles out come from the events too. Only events
recorded by `as_of` count, and only voids approved by then (SC-18), so an auditor recomputing a draw
later gets the population the draw saw — one GROUP BY over the month's cases, never a query per case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, exists, func, not_, select
from sqlalchemy.orm import Session

from central.cases.lifecycle import EventType
from central.cases.models import Case, CaseEvent, CaseEventVoid
from central.core.clock import SHANGHAI
from central.core.types import check_day
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Item
from central.sampling.draw import Candidate

logger = logging.getLogger(__name__)

CLOSING = (EventType.COMPLETED, EventType.REFUSED, EventType.REFUSED_ACCEPTANCE, EventType.REVOKED)
KIND_EVENTS = {
    "refusal": (EventType.REFUSED_ACCEPTANCE, EventType.REFUSED),
    "correction": (EventType.CORRECTION_REQUESTED,),
    "revocation": (EventType.REVOKED,),
    "extension": (EventType.EXTENDED,),
    "suspension": (EventType.SUSPENDED,),
}


@dataclass(frozen=True)
class Member:
    """A case of the population: its ids for storing a sample, and what the draw sees of it."""

    case_id: int
    hall_id: int
    department_id: int
    item_id: int
    candidate: Candidate


def month_days(month: str) -> tuple[date, date]:
    """'2026-10' → (2026-10-01, 2026-10-31); raises ValueError for anything else, or a month outside
    the system's dates (DateOutOfRange)."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return check_day(first), check_day(following - timedelta(days=1))


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def population(session: Session, *, month: str, within: Jurisdiction, as_of: datetime) -> list[Member]:
    first, last = month_days(month)
    voided = exists().where(CaseEventVoid.event_id == CaseEvent.id, CaseEventVoid.voided_at <= as_of)
    closed_at = func.min(case((CaseEvent.type.in_([t.value for t in CLOSING]), CaseEvent.at)))
    flags = [
        func.max(case((CaseEvent.type.in_([t.value for t in types]), 1), else_=0)).label(kind)
        for kind, types in KIND_EVENTS.items()
    ]
    query = (
        select(
            Case.id,
            Case.case_no,
            Case.hall_id,
            Case.department_id,
            Case.item_id,
            Department.code.label("department_code"),
            Item.code.label("item_code"),
            *flags,
        )
        .join(CaseEvent, CaseEvent.case_id == Case.id)
        .join(Department, Department.id == Case.department_id)
        .join(Item, Item.id == Case.item_id)
        # The projection's closing day narrows the scan; the events recorded by `as_of` decide.
        .where(
            Case.closed_on.between(first, last),
            within.clause(hall_id=Case.hall_id, department_id=Case.department_id),
            CaseEvent.recorded_at <= as_of,
            not_(voided),
        )
        .group_by(
            Case.id, Case.case_no, Case.hall_id, Case.department_id, Case.item_id, Department.code, Item.code
        )
        .having(and_(closed_at >= _utc(first), closed_at < _utc(last + timedelta(days=1))))
    )
    members = []
    for row in session.execute(query).mappings():
        kinds = frozenset(kind for kind in KIND_EVENTS if row[kind])
        members.append(
            Member(
                case_id=row["id"],
                hall_id=row["hall_id"],
                department_id=row["department_id"],
                item_id=row["item_id"],
                candidate=Candidate(
                    case_no=row["case_no"],
                    department=row["department_code"],
                    item=row["item_code"],
                    kinds=kinds,
                ),
            )
        )
    logger.debug("population of %s in %s as of %s: %d case(s)", month, within.code, as_of, len(members))
    return members
