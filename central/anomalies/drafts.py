"""What a rule hands back (a hit before it is stored) and what every rule is given."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, not_, select
from sqlalchemy.orm import Session

from central.anomalies.sql import DayTable, day_start_utc
from central.cases.models import Case, CaseEvent, CaseEventVoid
from common.profiles.schema import RuleProfile

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HitDraft:
    """One hit as a rule found it; `key` names it for good (rule, subject, period)."""

    rule: str
    key: str
    hall_id: int
    day_from: date
    day_to: date
    evidence: dict[str, Any]
    department_id: int | None = None
    item_id: int | None = None
    window_id: int | None = None
    case_id: int | None = None


@dataclass(frozen=True)
class RuleContext:
    """The period judged (Shanghai days, inclusive), its days table, the halls under one profile."""

    period_from: date
    period_to: date
    days: DayTable
    profile: RuleProfile
    hall_ids: list[int] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)  # what several rules share (one scan each)

    @property
    def start_utc(self) -> datetime:
        return day_start_utc(self.period_from)

    @property
    def end_utc(self) -> datetime:
        """The first moment after the period."""
        return day_start_utc(date.fromordinal(self.period_to.toordinal() + 1))


@dataclass(frozen=True)
class CaseFacts:
    case_no: str
    hall_id: int
    department_id: int


_CHUNK = 500  # ids per IN list: far below every backend's bound-parameter limit


def candidate_cases(
    session: Session, ctx: RuleContext, *, case_ids: Iterable[int], event_ids: Iterable[int]
) -> tuple[dict[int, CaseFacts], set[int]]:
    """For a rule's few candidate events: their cases in this profile's halls, and which of the events
    an approval voided. Looked up in chunks after the set-based filter: a join of the filtered rows
    would need the planner to guess how few they are (PostgreSQL guessed half a million, and hashed
    every case and event)."""
    wanted, events = sorted(set(case_ids)), sorted(set(event_ids))
    cases: dict[int, CaseFacts] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(Case.id, Case.case_no, Case.hall_id, Case.department_id).where(
                Case.id.in_(wanted[start : start + _CHUNK]), Case.hall_id.in_(ctx.hall_ids)
            )
        )
        cases.update({row.id: CaseFacts(row.case_no, row.hall_id, row.department_id) for row in rows})
    voided: set[int] = set()
    for start in range(0, len(events), _CHUNK):
        chunk = events[start : start + _CHUNK]
        voided.update(
            session.scalars(select(CaseEventVoid.event_id).where(CaseEventVoid.event_id.in_(chunk)))
        )
    return cases, voided


def event_counts() -> ColumnElement[bool]:
    """The event was not voided by an approval (SC-18): voided events count for no rule."""
    return not_(exists().where(CaseEventVoid.event_id == CaseEvent.id))
