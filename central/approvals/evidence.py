"""Approval kinds for looking at or copying evidence (SC-18: approved by the bureau at that level).

* ``evidence_view`` / ``evidence_export`` — target: an evidence id. On approval the grant is usable
  for `profile.approvals.evidence_access_hours` (the profile of the evidence's hall); the evidence
  module asks `has_evidence_access` before showing or exporting anything. An export grant also
  allows viewing.

Evidence storage arrives later. Until its module calls `set_evidence_locator`, the request names the
evidence's hall in its payload (``{"hall_code": "..."}``); once a locator is set, the hall (and
department) come from the stored evidence and an unknown id answers 404.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.approvals.kinds import (
    ApprovalKind,
    ApprovalStatus,
    KindContext,
    Level,
    Prepared,
    bad_payload,
    not_found,
    register_kind,
)
from central.approvals.models import ApprovalRequest
from central.audit.chain import record
from central.cases.schemas import CODE
from central.cases.service import describe_validation
from central.profiles.assignment import profile_for_hall
from central.registry.models import Hall

logger = logging.getLogger(__name__)

VIEW = "evidence_view"
EXPORT = "evidence_export"
TARGET_TYPE = "evidence"
_EVIDENCE_ID = re.compile(CODE)


@dataclass(frozen=True)
class EvidenceOwner:
    """Where a piece of evidence belongs: decides who may see it and who approves access."""

    hall_id: int
    department_id: int | None = None


EvidenceLocator = Callable[[Session, str], EvidenceOwner | None]
_locator: EvidenceLocator | None = None


def set_evidence_locator(locator: EvidenceLocator | None) -> None:
    """Called by the evidence module: look evidence up by id (None: no such evidence)."""
    global _locator  # noqa: PLW0603 - one process-wide hook, set once at import of the evidence module
    _locator = locator


class _HallPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    hall_code: str | None = Field(default=None, min_length=1, max_length=40)


def _owner(
    session: Session, evidence_id: str, payload: dict[str, Any]
) -> tuple[EvidenceOwner | None, dict[str, Any]]:
    try:
        parsed = _HallPayload.model_validate(payload)
    except ValidationError as exc:
        text = describe_validation(exc)
        raise bad_payload(f"payload: {text}", f"申请内容有误：{text}") from exc
    if _locator is not None:
        return _locator(session, evidence_id), {}
    if parsed.hall_code is None:
        raise bad_payload(
            "payload.hall_code is required: name the hall the evidence belongs to",
            "请填写证据所属大厅的编号（hall_code）。",
        )
    hall_id = session.scalar(select(Hall.id).where(Hall.code == parsed.hall_code))
    owner = EvidenceOwner(hall_id=hall_id) if hall_id is not None else None
    return owner, {"hall_code": parsed.hall_code}


def _prepare(ctx: KindContext, *, requester: Principal, target: str, payload: dict[str, Any]) -> Prepared:
    if not (1 <= len(target) <= 100 and _EVIDENCE_ID.fullmatch(target)):
        raise bad_payload(
            "target must be an evidence id (letters, digits, '.', '-', '_'; at most 100)",
            "证据编号格式无效：只能包含字母、数字、点、横线和下划线，最多 100 个字符。",
        )
    owner, stored = _owner(ctx.session, target, payload)
    within = requester.jurisdiction
    if owner is None or not (
        within.covers_case(hall_id=owner.hall_id, department_id=owner.department_id)
        if owner.department_id is not None
        else within.includes_hall(owner.hall_id)
    ):
        raise not_found(f"no evidence {target}", f"没有证据“{target}”，或不在您的辖区内。")
    return Prepared(
        hall_id=owner.hall_id, department_id=owner.department_id, target_id=target, payload=stored
    )


def _apply(ctx: KindContext, request: ApprovalRequest) -> dict[str, Any]:
    assert request.hall_id is not None
    profile = profile_for_hall(ctx.session, hall_id=request.hall_id, default_key=ctx.default_profile_key)
    request.usable_until = ctx.now + timedelta(hours=profile.approvals.evidence_access_hours)
    export = request.kind == EXPORT
    after = {
        "user_id": request.requested_by_id,
        "export": export,
        "usable_until": request.usable_until,
        "approval_id": request.id,
    }
    record(
        ctx.session,
        actor=ctx.actor,
        action="evidence.access.grant",
        target_type=TARGET_TYPE,
        target_id=request.target_id,
        after=after,
        at=ctx.now,
    )
    logger.info(
        "approval #%s: evidence %s usable until %s", request.id, request.target_id, request.usable_until
    )
    return {"export": export, "usable_until": request.usable_until.isoformat()}


def has_evidence_access(
    session: Session, *, user_id: int, evidence_id: str, export: bool, now: datetime
) -> bool:
    """Whether the user holds an approved, unexpired grant to view (or, with `export`, to export) it."""
    kinds = [EXPORT] if export else [VIEW, EXPORT]
    found = session.scalar(
        select(ApprovalRequest.id)
        .where(
            ApprovalRequest.kind.in_(kinds),
            ApprovalRequest.status == ApprovalStatus.APPROVED.value,
            ApprovalRequest.target_type == TARGET_TYPE,
            ApprovalRequest.target_id == evidence_id,
            ApprovalRequest.requested_by_id == user_id,
            ApprovalRequest.usable_until > now,
        )
        .limit(1)
    )
    return found is not None


for _name, _label in ((VIEW, "查看证据"), (EXPORT, "导出证据")):
    register_kind(
        ApprovalKind(
            name=_name,
            label=_label,
            target_type=TARGET_TYPE,
            level=Level.LOCAL,
            prepare=_prepare,
            apply=_apply,
        )
    )

__all__ = [
    "EXPORT",
    "VIEW",
    "EvidenceLocator",
    "EvidenceOwner",
    "has_evidence_access",
    "set_evidence_locator",
]
