"""What a rule hands back (a hit before it is stored) and what every rule is given."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, not_

from central.anomalies.sql import DayTable, day_start_utc
from central.cases.models import CaseEvent, CaseEventVoid
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


def event_counts() -> ColumnElement[bool]:
    """The event was not voided by an approval (SC-18): voided events count for no rule."""
    return not_(exists().where(CaseEventVoid.event_id == CaseEvent.id))
