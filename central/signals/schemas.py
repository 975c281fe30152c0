"""Signal API shapes, apart from the table models."""

from __future__ import annotations

import logging
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.signals.lifecycle import Finding, SignalAction, SignalStatus
from central.signals.reasons import REASONS, Color, Origin

logger = logging.getLogger(__name__)


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignalCreate(StrictIn):
    """A signal raised by hand by an inspector, about a case or a department (SZ-11, SZ-12)."""

    reason_code: str = Field(max_length=40, description="One of the SZ-11 (yellow) or SZ-12 (red) codes.")
    reason: str = Field(min_length=2, max_length=2000, description="What happened, in the inspector's words.")
    evidence: str | None = Field(default=None, max_length=4000, description="Where the evidence is.")
    case_no: str | None = Field(default=None, min_length=1, max_length=64)
    department_code: str | None = Field(default=None, min_length=1, max_length=40)

    @model_validator(mode="after")
    def _verify(self) -> SignalCreate:
        verify_manual_reason(self.reason_code)
        verify_subject_named(self)
        return self


def verify_manual_reason(code: str) -> None:
    reason = REASONS.get(code)
    if reason is None or not reason.manual:
        raise ValueError(f"unknown reason_code {code!r}; see GET /api/v1/signals/reasons")


def verify_subject_named(body: SignalCreate) -> None:
    if not body.case_no and not body.department_code:
        raise ValueError("name the case (case_no) or the department (department_code) the signal is about")


class SignalActionIn(StrictIn):
    action: SignalAction
    note: str | None = Field(default=None, max_length=2000)
    finding: Finding | None = None

    @model_validator(mode="after")
    def _verify(self) -> SignalActionIn:
        verify_not_investigate(self)
        verify_note_where_needed(self)
        verify_finding_on_close(self)
        return self


def verify_not_investigate(body: SignalActionIn) -> None:
    if body.action is SignalAction.INVESTIGATE:
        raise ValueError("open an investigation with POST /api/v1/investigations (it names who investigates)")


_NOTE_NEEDED = frozenset({SignalAction.CORRECT, SignalAction.ESCALATE, SignalAction.CLOSE})


def verify_note_where_needed(body: SignalActionIn) -> None:
    if body.action in _NOTE_NEEDED and not body.note:
        raise ValueError(f"{body.action.value} needs a note saying what was done or why")


def verify_finding_on_close(body: SignalActionIn) -> None:
    if (body.action is SignalAction.CLOSE) != (body.finding is not None):
        raise ValueError("a finding (fault or no_fault) goes with close, and only with close")


class ReasonPublic(BaseModel):
    code: str
    color: Color
    label: str
    rule: str
    manual: bool


class SignalEventPublic(BaseModel):
    at: datetime
    action: str
    from_status: SignalStatus
    to_status: SignalStatus
    actor: str
    note: str | None


class SignalPublic(BaseModel):
    id: int
    color: Color
    initial_color: Color
    origin: Origin
    reason_code: str
    reason_label: str
    reason: str | None
    evidence: str | None
    status: SignalStatus
    case_no: str | None
    hall_code: str
    hall_name: str
    department_code: str
    department_name: str
    issued_at: datetime
    issued_on: date
    issued_by: str
    correct_by: date | None
    escalated_at: datetime | None
    closed_at: datetime | None
    finding: Finding | None
    investigation_id: int | None
    allowed_actions: list[SignalAction]


class SignalDetail(SignalPublic):
    events: list[SignalEventPublic]


class SignalPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[SignalPublic]
