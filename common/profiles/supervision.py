"""Sampling supervision (抽样监察, SC-6(4)) and data supervision (数据监察, SC-6(2)) as profile data.

Sampling: the share of a month's closed cases drawn for review, with SZ-9's kinds (refusals,
correction requests, revocations, extensions, suspensions) drawn at higher rates. Data supervision:
one section per anomaly rule, each switched on or off and tuned here, never in code.
"""

from __future__ import annotations

import logging

from pydantic import Field, model_validator

from common.profiles.base import StrictModel

logger = logging.getLogger(__name__)


class SamplingRules(StrictModel):
    """Each closed case is drawn with the highest rate among the base rate and its kinds' rates;
    within each department × item × rate class the count drawn is that rate times the cases there,
    rounded up or down at random so the rate holds on average (SC-6(4), SZ-9)."""

    base_rate: float = Field(
        default=0.05, ge=0, le=1, description="Share of ordinary closed cases drawn for review."
    )
    refusal_rate: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Cases refused acceptance or refused a permit (不予受理、不予许可, SZ-9).",
    )
    correction_rate: float = Field(
        default=0.3, ge=0, le=1, description="Cases whose applicant was asked for corrections (补正, SZ-9)."
    )
    revocation_rate: float = Field(default=1.0, ge=0, le=1, description="Revoked cases (撤销, SZ-9).")
    extension_rate: float = Field(
        default=0.3, ge=0, le=1, description="Cases whose time limit was extended (延期, LAW art. 42)."
    )
    suspension_rate: float = Field(
        default=0.3, ge=0, le=1, description="Cases whose clock was suspended (暂停计时, LAW art. 45)."
    )
    min_per_department: int = Field(
        default=1,
        ge=0,
        le=50,
        description="At least this many of a department's closed cases are drawn (fewer if it has fewer).",
    )

    @model_validator(mode="after")
    def _oversampled(self) -> SamplingRules:
        for name in (
            "refusal_rate",
            "correction_rate",
            "revocation_rate",
            "extension_rate",
            "suspension_rate",
        ):
            if getattr(self, name) < self.base_rate:
                raise ValueError(f"{name} is below base_rate: SZ-9's kinds are drawn at least as often")
        return self


class PaceRule(StrictModel):
    enabled: bool = Field(default=True, description="Items handled far faster or slower than their history.")
    history_months: int = Field(default=6, ge=1, le=24, description="Months before the one judged.")
    fast_ratio: float = Field(
        default=0.34, gt=0, lt=1, description="Hit when the month's mean is at most this share of history's."
    )
    slow_ratio: float = Field(
        default=3.0,
        gt=1,
        le=100,
        description="Hit when the month's mean is at least this many times history's.",
    )
    min_difference_workdays: float = Field(
        default=2, ge=0, le=60, description="…and the means differ by at least this many working days."
    )
    min_cases: int = Field(default=5, ge=1, le=10_000, description="Completed cases the month needs.")
    min_history_cases: int = Field(default=20, ge=1, le=100_000, description="Cases the history needs.")


class DueDateBunchingRule(StrictModel):
    enabled: bool = Field(default=True, description="Completions bunched on the due date.")
    max_share: float = Field(
        default=0.3,
        gt=0,
        le=1,
        description="Hit when this share or more of a month's completions fall on it.",
    )
    min_cases: int = Field(default=10, ge=1, le=100_000, description="Completions the month needs.")


class PauseBeforeDueRule(StrictModel):
    enabled: bool = Field(
        default=True, description="Suspensions or corrections started just before the due date."
    )
    within_workdays: int = Field(
        default=1,
        ge=0,
        le=10,
        description="Hit when at most this many working days remained (0: the due date).",
    )


class OutsideHoursRule(StrictModel):
    enabled: bool = Field(default=True, description="Cases accepted outside working hours.")
    grace_minutes: int = Field(
        default=30,
        ge=0,
        le=240,
        description="Minutes before opening and after closing still counted as in hours.",
    )
    days_off: bool = Field(default=True, description="Acceptances on days off (weekends, holidays) are hits.")


class UnseenAcceptanceRule(StrictModel):
    enabled: bool = Field(default=True, description="Cases accepted by a window whose camera saw nobody.")
    max_seated_seconds: float = Field(
        default=0,
        ge=0,
        le=600,
        description="The customer seat taken at most this long in the hour counts as nobody.",
    )


class IdleDepartmentRule(StrictModel):
    enabled: bool = Field(
        default=True, description="Departments with no cases for days while their windows were staffed."
    )
    min_workdays: int = Field(default=3, ge=1, le=60, description="Working days in a row without a case.")
    min_staffed_minutes: int = Field(
        default=120,
        ge=1,
        le=1440,
        description="Minutes the department's staff seats were taken for a day to count.",
    )


class AnomalyRules(StrictModel):
    """The data supervision rules (SC-6(2)); a rule switched off finds nothing."""

    item_pace: PaceRule = Field(default_factory=PaceRule)
    due_date_bunching: DueDateBunchingRule = Field(default_factory=DueDateBunchingRule)
    pause_before_due: PauseBeforeDueRule = Field(default_factory=PauseBeforeDueRule)
    outside_hours: OutsideHoursRule = Field(default_factory=OutsideHoursRule)
    unseen_acceptance: UnseenAcceptanceRule = Field(default_factory=UnseenAcceptanceRule)
    idle_department: IdleDepartmentRule = Field(default_factory=IdleDepartmentRule)
