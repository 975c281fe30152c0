"""API shapes for approval requests (separate from the table model)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from central.approvals.kinds import ApprovalStatus, Level

logger = logging.getLogger(__name__)


class ApprovalIn(BaseModel):
    """A request: `target` names what it is about (an event_id, an evidence id, …) by its kind."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: str = Field(min_length=1, max_length=40)
    target: str = Field(min_length=1, max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(min_length=1, max_length=2000, description="Why the change or access is needed.")


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str | None = Field(default=None, max_length=2000)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(min_length=1, max_length=2000, description="Why the request is rejected.")


class ApprovalOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    level: Level
    status: ApprovalStatus
    target_type: str
    target_id: str
    payload: dict[str, Any]
    reason: str
    hall_code: str | None
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    result: dict[str, Any] | None
    usable_until: datetime | None
    can_decide: bool = Field(description="Whether the caller may approve or reject it now.")
    can_withdraw: bool = Field(description="Whether the caller may withdraw it now.")
