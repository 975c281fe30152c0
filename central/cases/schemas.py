"""API shapes for case events and case views (separate from the table models)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.cases.clock import Light
from central.cases.lifecycle import CaseStatus, EventType
from central.core.types import Moment

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


class CaseEventIn(BaseModel):
    """One event pushed by a hall system or another department's system (RULES: vertical systems).

    Naive timestamps are read as Asia/Shanghai wall time.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    event_id: str = Field(min_length=1, max_length=100, pattern=CODE)
    case_no: str = Field(min_length=1, max_length=64, pattern=CODE)
    type: EventType
    at: Moment
    item_code: str = Field(min_length=1, max_length=60)
    hall_code: str = Field(min_length=1, max_length=40)
    window_code: str | None = Field(default=None, max_length=40)
    staff_code: str | None = Field(default=None, max_length=40)
    applicant_name: str | None = Field(default=None, max_length=100)
    days: int | None = Field(default=None, ge=1, le=60, description="Working days an extension adds.")
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _verify(self) -> CaseEventIn:
        verify_days_only_on_extension(self)
        return self


def verify_days_only_on_extension(event: CaseEventIn) -> None:
    if event.type is EventType.EXTENDED and event.days is None:
        raise ValueError("an extended event needs days (working days added, LAW art. 42)")
    if event.type is not EventType.EXTENDED and event.days is not None:
        raise ValueError(f"days is only allowed on extended events, not on {event.type}")


class EventOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    INVALID = "invalid"
    NOT_APPLIED = "not_applied"  # valid, but the batch was rejected as a whole


class EventResult(BaseModel):
    index: int
    event_id: str
    case_no: str
    outcome: EventOutcome
    detail: str | None = None
    query_password: str | None = Field(
        default=None,
        description="The case's query password (查询密码), on the event that created the case: print it "
        "on the receipt; central keeps only a digest and cannot show it again (reissue makes a new one).",
    )


class BatchResult(BaseModel):
    accepted: bool
    stored: int
    duplicates: int
    rejected: int
    results: list[EventResult]


class CaseEventPublic(BaseModel):
    event_id: str
    type: EventType
    at: datetime
    window_code: str | None = None
    staff_code: str | None = None
    staff_name: str | None = None
    days: int | None = None
    reason: str | None = None
    source: str
    voided: bool = False  # voided by an approval (SC-18): kept in the log, not counted
    void_approval_id: int | None = None


class CaseSummary(BaseModel):
    case_no: str
    item_code: str
    item_name: str
    hall_code: str
    department_code: str
    department_name: str
    applicant_name: str | None
    status: CaseStatus
    accepted_on: date | None
    due_date: date | None
    legal_due_date: date | None
    remaining_working_days: int | None
    light: Light | None
    green_warning: bool = False
    legal_overdue: bool = False
    finished_on_time: bool | None = None
    calendar_missing: bool = False
    missing_years: list[int] = Field(default_factory=list)


class CaseDetail(CaseSummary):
    as_of: datetime
    profile: str
    promised_limit_days: int
    legal_limit_days: int
    extension_days: int
    suspended_working_days: int | None
    window_code: str | None
    staff_code: str | None
    staff_name: str | None
    events: list[CaseEventPublic]


class CasePage(BaseModel):
    as_of: datetime
    total: int
    page: int
    page_size: int
    items: list[CaseSummary]
