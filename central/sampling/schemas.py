"""Sampling API shapes, apart from the table models, and the refusal every layer raises."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.signals.schemas import verify_manual_reason

logger = logging.getLogger(__name__)

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class SamplingError(Exception):
    """A refusal with the API's English detail and the page's Chinese message."""

    def __init__(self, status_code: int, detail: str, zh: str) -> None:
        super().__init__(detail)
        self.status_code, self.detail, self.zh = status_code, detail, zh


class Finding(StrEnum):
    COMPLIANT = "compliant"  # 合规
    NONCOMPLIANT = "noncompliant"  # 不合规


FINDING_LABELS = {Finding.COMPLIANT: "合规", Finding.NONCOMPLIANT: "不合规"}


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DrawCreate(StrictIn):
    month: str = Field(
        pattern=MONTH, description="The month whose closed cases are drawn (YYYY-MM, Shanghai)."
    )
    scope: str | None = Field(
        default=None,
        max_length=80,
        description="region:CODE, hall:CODE or department:CODE inside your jurisdiction; yours by default.",
    )
    note: str | None = Field(default=None, max_length=500)


class ReviewIn(StrictIn):
    """合规, or 不合规 citing the rule broken (a signal reason of SZ-11/SZ-12): that raises the signal."""

    finding: Finding
    reason_code: str | None = Field(
        default=None, max_length=40, description="The rule cited; required for 不合规."
    )
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _verify(self) -> ReviewIn:
        verify_rule_cited(self)
        return self


def verify_rule_cited(body: ReviewIn) -> None:
    if body.finding is Finding.NONCOMPLIANT and not body.reason_code:
        raise ValueError("a non-compliant finding cites the rule broken (reason_code)")
    if body.reason_code:
        verify_manual_reason(body.reason_code)


class SampleCasePublic(BaseModel):
    id: int
    draw_id: int
    position: int
    case_no: str
    department_code: str
    department_name: str
    item_code: str
    item_name: str
    kinds: list[str]
    stratum: str
    reviewer: str
    finding: Finding | None
    reason_code: str | None
    note: str | None
    reviewed_at: datetime | None
    signal_id: int | None


class DrawPublic(BaseModel):
    id: int
    month: str
    scope: str
    drawn_at: datetime
    drawn_by: str
    seed: str
    algorithm: str
    profile_key: str
    rates: dict[str, float]
    min_per_department: int
    population: int
    population_digest: str
    reviewers: list[str]
    sample_size: int
    reviewed: int
    noncompliant: int
    note: str | None
    cases: list[SampleCasePublic] = Field(default_factory=list)


class VerifyPublic(BaseModel):
    """An auditor's recomputation of a draw from its recorded seed, as of the moment it was drawn."""

    draw_id: int
    ok: bool
    population_recorded: int
    population_recomputed: int
    population_matches: bool
    sample_matches: bool
    differences: list[str]


class CoverageRow(BaseModel):
    department_code: str
    department_name: str
    hall_name: str
    closed: int  # cases closed in the month (as the projection stands)
    sampled: int
    reviewed: int
    noncompliant: int
    coverage: float | None  # sampled / closed
