"""Complaint API shapes: what a citizen sends, what an inspector decides, what each of them reads."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from central.complaints.labels import ComplaintAbout, ComplaintStatus
from central.registry.document import CODE_PATTERN
from common.public_feed import CaseNo, QueryPassword

logger = logging.getLogger(__name__)

NUMBER_PATTERN = r"^TS[0-9]{14}$"
ComplaintNumber = Annotated[
    str, Field(pattern=NUMBER_PATTERN, description="投诉编号, e.g. TS20260930123456.")
]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=CODE_PATTERN)]
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{3,18}[0-9]$")
CONTENT_MIN, CONTENT_MAX = 10, 5000


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ComplaintIn(StrictIn):
    """A complaint as the public form and API send it (multipart/form-data, with `attachments`)."""

    hall: Code = Field(description="The hall's code.")
    about: ComplaintAbout = Field(description="What the complaint is about.")
    case_no: CaseNo | None = Field(default=None, description="About a case: its number (办件编号).")
    window: Code | None = Field(default=None, description="About a window: its code.")
    staff: Code | None = Field(default=None, description="About a member of staff: their number (工号).")
    department: Code | None = Field(default=None, description="About a department: its code.")
    content: str = Field(min_length=CONTENT_MIN, max_length=CONTENT_MAX, description="What happened.")
    anonymous: bool = Field(
        default=False, description="Anonymous: no name or phone is kept (any sent are dropped)."
    )
    name: str | None = Field(default=None, max_length=60, description="A named complainant's name.")
    phone: str | None = Field(default=None, max_length=20, description="A named complainant's phone.")
    challenge: str = Field(min_length=1, max_length=200, description="The token of GET …/challenge.")
    answer: str = Field(min_length=1, max_length=10, description="The answer to its question.")

    @field_validator("case_no", "window", "staff", "department", "name", "phone", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        needed = {
            ComplaintAbout.CASE: ("case_no", "办件编号"),
            ComplaintAbout.WINDOW: ("window", "窗口"),
            ComplaintAbout.STAFF: ("staff", "工作人员工号"),
            ComplaintAbout.DEPARTMENT: ("department", "部门"),
        }.get(self.about)
        if needed is not None and getattr(self, needed[0]) is None:
            raise ValueError(f"请填写被投诉的{needed[1]}（{needed[0]}）")
        if self.anonymous:
            self.name = self.phone = None
        elif self.name is None:
            raise ValueError("实名投诉请填写姓名（name），或选择匿名投诉")
        if self.phone is not None and not PHONE.fullmatch(self.phone):
            raise ValueError("联系电话格式不正确（phone）：只能包含数字、空格和短横线")
        return self


class ComplaintReceipt(BaseModel):
    """What the complainant keeps: the number and the query password (shown once, never stored)."""

    number: str
    password: str
    received_at: datetime
    decide_by: date | None = Field(description="The last working day to accept or refuse (SZ-14).")


class StatusQuery(StrictIn):
    number: ComplaintNumber
    password: QueryPassword


class ChallengeOut(BaseModel):
    question: str = Field(description="A small sum in Chinese numerals; answer in digits.")
    token: str
    expires_at: datetime


class TargetChoice(BaseModel):
    code: str
    name: str
    department: str | None = Field(default=None, description="A window's department.")


class ComplaintChoices(BaseModel):
    """What a hall's complaint form offers to choose from (public facts: the names on the hall's signs)."""

    hall: str
    hall_name: str
    windows: list[TargetChoice]
    departments: list[TargetChoice]


class ComplaintStatusPublic(BaseModel):
    """What the number and password show (nothing of the complaint's text)."""

    number: str
    hall: str
    about: str  # zh-CN label
    received_at: datetime
    decide_by: date | None
    status: ComplaintStatus
    status_label: str
    decided_at: datetime | None
    refusal_reasons: str | None
    closed_at: datetime | None
    outcome: str | None  # 投诉属实 / 投诉不属实
    reply: str | None


class DecisionIn(StrictIn):
    accept: bool
    reasons: str | None = Field(
        default=None, max_length=2000, description="Why it is refused (required then), or a note."
    )

    @model_validator(mode="after")
    def _reasons_for_refusal(self) -> Self:
        if not self.accept and len((self.reasons or "").strip()) < 5:
            raise ValueError("不予受理须写明理由（reasons，至少 5 个字）")
        return self


class AssignIn(StrictIn):
    assignee_scope: str = Field(
        min_length=1,
        max_length=60,
        description="Who investigates: region:, hall: or department: code (SC-9).",
    )
    subject: str | None = Field(default=None, max_length=2000, description="What to look into.")


class CloseIn(StrictIn):
    findings: str = Field(min_length=2, max_length=8000, description="What the handling found.")
    reply: str = Field(min_length=2, max_length=4000, description="The answer the complainant is given.")
    upheld: bool = Field(description="Whether the complaint is found justified (投诉属实).")


class AttachmentOut(BaseModel):
    id: int
    filename: str
    media_type: str
    size_bytes: int
    sha256: str


class InvestigationBrief(BaseModel):
    id: int
    assignee_scope: str
    due_date: date
    status: str
    overdue: bool
    finding: str | None
    report: str | None


class ComplaintOut(BaseModel):
    """A complaint as staff read it: in full for the inspectors handling it, masked for anyone else
    (`masked` says which)."""

    id: int
    number: str
    channel: str
    about: ComplaintAbout
    about_label: str
    hall_code: str
    hall_name: str
    department_code: str | None
    department_name: str | None
    window_name: str | None
    staff: str | None  # 王芳(A1023)
    case_no: str | None
    anonymous: bool
    complainant_name: str | None
    complainant_phone: str | None
    content: str
    masked: bool
    handler: bool = Field(description="Whether the reader may decide, assign and close it.")
    received_at: datetime
    decide_by: date | None
    working_days_left: int | None
    overdue: bool = Field(description="Still undecided after its last day to decide.")
    status: ComplaintStatus
    status_label: str
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    investigation: InvestigationBrief | None
    findings: str | None
    reply: str | None
    upheld: bool | None
    outcome_label: str
    closed_at: datetime | None
    closed_by: str | None
    attachments: list[AttachmentOut]


class ComplaintPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[ComplaintOut]
