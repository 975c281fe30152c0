"""API shapes of the ledger (台帐, SC-7): its query parameters and its rows, apart from the tables."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from central.core.types import Day
from central.exports.tables import ExportFormat
from central.ledger.labels import LedgerKind
from central.registry.document import CODE_PATTERN
from central.signals.lifecycle import SignalStatus
from central.signals.reasons import REASONS, Color, Origin

logger = logging.getLogger(__name__)

CASE_NO_PREFIX = r"^[A-Za-z0-9_.\-]+$"
MAX_PAGE = 1_000_000


class LedgerQuery(BaseModel):
    """The ledger's filters as query parameters; an unknown parameter is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    issued_from: Day | None = Field(default=None, description="First day of issue (Shanghai date).")
    issued_to: Day | None = Field(default=None, description="Last day of issue (Shanghai date).")
    color: Color | None = None
    status: SignalStatus | None = None
    origin: Origin | None = None
    reason_code: str | None = Field(default=None, max_length=40)
    hall: str | None = Field(default=None, max_length=40, pattern=CODE_PATTERN, description="Hall code.")
    department: str | None = Field(
        default=None, max_length=40, pattern=CODE_PATTERN, description="Department code."
    )
    case_no: str | None = Field(
        default=None, max_length=64, pattern=CASE_NO_PREFIX, description="Case number prefix."
    )
    overdue_investigation: bool = Field(
        default=False, description="Only entries whose investigation is open past its due date."
    )

    @field_validator("reason_code")
    @classmethod
    def _known_reason(cls, code: str | None) -> str | None:
        if code is not None and code not in REASONS:
            raise ValueError(f"unknown reason code {code[:40]!r}; see central.signals.reasons")
        return code

    @field_validator("hall", "department", "case_no", "reason_code", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _ordered_dates(self) -> Self:
        if self.issued_from and self.issued_to and self.issued_from > self.issued_to:
            raise ValueError("issued_from is after issued_to")
        return self


class LedgerListQuery(LedgerQuery):
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=50, ge=1, le=10_000, description="At most the server's page_size_max.")


class LedgerExportQuery(LedgerQuery):
    format: ExportFormat


class LedgerRow(BaseModel):
    """One ledger entry, whatever its source: a signal, a 差评's follow-up, a patrol's finding."""

    kind: LedgerKind
    kind_label: str
    id: int
    issued_at: datetime
    issued_on: date
    color: str | None
    color_label: str
    reason_code: str | None
    reason_label: str
    origin: str | None
    origin_label: str
    status: str
    status_label: str
    case_no: str | None
    hall_code: str
    hall_name: str
    department_code: str | None
    department_name: str | None
    correct_by: date | None
    escalated_at: datetime | None
    closed_at: datetime | None
    finding: str | None
    finding_label: str
    investigation_due: date | None
    investigation_status: str | None
    investigation_reported_at: datetime | None
    investigation_overdue: bool
    last_action: str
    last_action_label: str
    last_action_at: datetime
    window_code: str | None = Field(description="A patrol finding's window.")
    window_name: str | None
    inspector: str | None = Field(description="A patrol finding's inspector (username).")
    patrol_id: int | None = Field(description="The patrol session a finding was recorded in.")
    category: str | None = Field(description="A patrol finding's category (central.patrols.findings_kinds).")
    category_label: str
    signal_id: int | None = Field(description="The signal a confirmed patrol finding raised.")
    url: str = Field(description="The entry's console page.")


class LedgerPage(BaseModel):
    as_of: date = Field(description="The Shanghai day against which investigations count as overdue.")
    total: int
    page: int
    page_size: int
    items: list[LedgerRow]
