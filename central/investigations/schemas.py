"""Investigation API shapes."""

from __future__ import annotations

import logging
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from central.signals.lifecycle import Finding

logger = logging.getLogger(__name__)


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class InvestigationCreate(StrictIn):
    signal_id: int = Field(ge=1, le=2**62, description="The signal to investigate (SZ-13).")
    assignee_scope: str = Field(
        min_length=1,
        max_length=60,
        description="Who investigates: region:, hall: or department: code (SC-9).",
    )
    subject: str | None = Field(
        default=None, max_length=2000, description="What to look into; defaults to the signal."
    )


class InvestigationReport(StrictIn):
    report: str = Field(min_length=2, max_length=8000, description="What the investigation found.")
    finding: Finding


class InvestigationPublic(BaseModel):
    id: int
    signal_id: int | None
    subject: str
    assigned_by: str
    assignee_scope: str
    assigned_at: datetime
    due_date: date
    extension_days: int
    extensions: int
    status: str
    overdue: bool
    working_days_left: int | None  # None once reported or when the calendar lacks the year
    reported_at: datetime | None
    reported_by: str | None
    report: str | None
    finding: Finding | None


class InvestigationPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[InvestigationPublic]
