"""Data supervision API shapes, apart from the table models, and the refusal every layer raises."""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.signals.reasons import REASONS

logger = logging.getLogger(__name__)

DEFAULT_REASON = "data_anomaly"


class AnomalyError(Exception):
    """A refusal with the API's English detail and the page's Chinese message."""

    def __init__(self, status_code: int, detail: str, zh: str) -> None:
        super().__init__(detail)
        self.status_code, self.detail, self.zh = status_code, detail, zh


class HitStatus(StrEnum):
    OPEN = "open"
    SIGNALLED = "signalled"
    DISMISSED = "dismissed"


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class HitSignalIn(StrictIn):
    """Turn a hit into a signal: `data_anomaly` (SC-6.2, yellow) or a rule of SZ-11/SZ-12 it shows."""

    reason_code: str = Field(default=DEFAULT_REASON, max_length=40)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _verify(self) -> HitSignalIn:
        verify_hit_reason(self.reason_code)
        return self


def verify_hit_reason(code: str) -> None:
    reason = REASONS.get(code)
    if reason is None or not (reason.manual or code == DEFAULT_REASON):
        raise ValueError(
            f"unknown reason_code {code!r}: data_anomaly or a manual reason (GET /api/v1/signals/reasons)"
        )


class HitDismissIn(StrictIn):
    note: str = Field(min_length=2, max_length=2000, description="Why the hit is no anomaly.")


class HitPublic(BaseModel):
    id: int
    rule: str
    rule_label: str
    summary: str
    hall_code: str
    hall_name: str
    department_code: str | None
    department_name: str | None
    item_code: str | None
    item_name: str | None
    window_code: str | None
    case_no: str | None
    day_from: date
    day_to: date
    evidence: dict[str, Any]
    status: HitStatus
    signal_id: int | None
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    first_found_at: datetime
    last_found_at: datetime


class HitPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[HitPublic]


class HallCount(BaseModel):
    """Open hits of one hall, per rule: the page's overview of a jurisdiction."""

    hall_code: str
    hall_name: str
    by_rule: dict[str, int]
    total: int


class RuleExplained(BaseModel):
    code: str
    label: str
    enabled: bool
    explanation: str


class ProfileRules(BaseModel):
    profile_key: str
    profile_name: str
    rules: list[RuleExplained]


class RunPublic(BaseModel):
    started_at: datetime
    period_from: date
    period_to: date
    found: int
    added: int
    seconds: float
