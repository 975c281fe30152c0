"""The `live_view` approval kind (SC-18: looking at video needs approval by the bureau at that level),
asked for only where the hall's rule profile says so (`approvals.live_view_needs_grant`).

Target: a hall code. Approved by the bureau covering the hall (local level); usable for the profile's
`evidence_access_hours`, by the requester only. Importing this module registers the kind (the live
router imports it).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

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
from central.profiles.assignment import profile_for_hall
from central.registry.models import Hall

logger = logging.getLogger(__name__)

LIVE_VIEW = "live_view"
TARGET_TYPE = "hall"


def _prepare(ctx: KindContext, *, requester: Principal, target: str, payload: dict[str, Any]) -> Prepared:
    if payload:
        raise bad_payload("a live view request has no payload", "实时视频申请无需填写其他内容。")
    hall_id = ctx.session.scalar(select(Hall.id).where(Hall.code == target[:40]))
    if hall_id is None or not requester.jurisdiction.includes_hall(hall_id):
        raise not_found(f"no hall {target[:40]}", f"没有编号为“{target[:40]}”的大厅，或不在您的辖区内。")
    return Prepared(hall_id=hall_id, department_id=None, target_id=target)


def _apply(ctx: KindContext, request: ApprovalRequest) -> dict[str, Any]:
    assert request.hall_id is not None
    profile = profile_for_hall(ctx.session, hall_id=request.hall_id, default_key=ctx.default_profile_key)
    request.usable_until = ctx.now + timedelta(hours=profile.approvals.evidence_access_hours)
    record(
        ctx.session,
        actor=ctx.actor,
        action="live.view.grant",
        target_type=TARGET_TYPE,
        target_id=request.target_id,
        after={
            "user_id": request.requested_by_id,
            "usable_until": request.usable_until,
            "approval_id": request.id,
        },
        at=ctx.now,
    )
    logger.info(
        "approval #%s: live view of hall %s until %s", request.id, request.target_id, request.usable_until
    )
    return {"usable_until": request.usable_until.isoformat()}


def has_live_grant(session: Session, *, user_id: int, hall_code: str, now: datetime) -> bool:
    """Whether the user holds an approved, unexpired grant to watch the hall live."""
    found = session.scalar(
        select(ApprovalRequest.id)
        .where(
            ApprovalRequest.kind == LIVE_VIEW,
            ApprovalRequest.status == ApprovalStatus.APPROVED.value,
            ApprovalRequest.target_type == TARGET_TYPE,
            ApprovalRequest.target_id == hall_code,
            ApprovalRequest.requested_by_id == user_id,
            ApprovalRequest.usable_until > now,
        )
        .limit(1)
    )
    return found is not None


register_kind(
    ApprovalKind(
        name=LIVE_VIEW,
        label="查看实时视频",
        target_type=TARGET_TYPE,
        level=Level.LOCAL,
        prepare=_prepare,
        apply=_apply,
    )
)
