"""Approval requests (SC-18): ask, then someone else with the right scope decides; nothing changes
until a request is approved, and then the change is applied in the approval's own transaction.

Who sees and who decides: `central.approvals.rules`. Reading: `central.approvals.queries`.
Every step is audited (approval.request / approve / reject / withdraw, plus what the kind applied).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.approvals import calendar_kind, case_kinds, evidence  # noqa: F401 - importing registers the built-in kinds
from central.approvals.kinds import (
    ApprovalError,
    ApprovalKind,
    ApprovalStatus,
    KindContext,
    bad_payload,
    conflict,
    forbidden,
    get_kind,
    registered_kinds,
)
from central.approvals.models import ApprovalRequest
from central.approvals.queries import approval_out
from central.approvals.rules import (
    covers_whole_hall,
    decide_problem,
    missing_request,
    no_right,
    visible_request,
)
from central.approvals.schemas import ApprovalOut
from central.audit.chain import record
from central.registry.jurisdiction import is_deployment_wide
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

# -- asking ---------------------------------------------------------------------------------------


def create_request(
    session: Session,
    *,
    requester: Principal,
    kind: str,
    target: str,
    payload: dict[str, Any],
    reason: str,
    now: datetime,
    calendar: WorkCalendar,
    default_profile_key: str,
) -> ApprovalOut:
    """Check and store a pending request (committed); the kind's change waits for an approval."""
    found = get_kind(kind)
    if found is None:
        known = ", ".join(sorted(registered_kinds()))
        raise bad_payload(f"unknown kind {kind!r}; known kinds: {known}", f"未知的申请类型“{kind[:40]}”。")
    if not reason.strip():
        raise bad_payload("reason is required", "请填写申请理由。")
    ctx = KindContext(session, now, requester.actor, calendar, default_profile_key)
    prepared = found.prepare(ctx, requester=requester, target=target, payload=payload)
    _refuse_duplicate(session, found, prepared.target_id, requester)
    request = ApprovalRequest(
        kind=found.name,
        status=ApprovalStatus.PENDING.value,
        level=found.level.value,
        target_type=found.target_type,
        target_id=prepared.target_id,
        payload=json.dumps(prepared.payload, ensure_ascii=False, sort_keys=True),
        reason=reason.strip(),
        hall_id=prepared.hall_id,
        department_id=prepared.department_id,
        requested_by_id=requester.user_id,
        requested_at=now,
    )
    session.add(request)
    session.flush()
    after = {
        "kind": request.kind,
        "level": request.level,
        "target_type": request.target_type,
        "target_id": request.target_id,
        "payload": prepared.payload,
        "reason": request.reason,
        "status": request.status,
    }
    _audit(session, requester, "approval.request", request, None, after, now)
    session.commit()
    logger.info("%s asked for %s on %s (#%s)", requester.username, kind, request.target_id, request.id)
    return approval_out(session, request, principal=requester)


def _refuse_duplicate(session: Session, kind: ApprovalKind, target_id: str, requester: Principal) -> None:
    pending = session.scalar(
        select(ApprovalRequest.id).where(
            ApprovalRequest.kind == kind.name,
            ApprovalRequest.target_id == target_id,
            ApprovalRequest.requested_by_id == requester.user_id,
            ApprovalRequest.status == ApprovalStatus.PENDING.value,
        )
    )
    if pending is not None:
        raise conflict(
            f"you already have a pending {kind.name} request for {target_id} (#{pending})",
            f"您对“{target_id}”的同类申请（#{pending}）尚在审批中。",
        )


# -- deciding -------------------------------------------------------------------------------------


def _decidable(session: Session, principal: Principal, request_id: int) -> ApprovalRequest:
    refused = no_right(principal)
    if refused is not None:
        raise refused  # before looking the request up: 403 for the role, whatever the id
    request = visible_request(session, principal, request_id, lock=True)
    provincial = is_deployment_wide(session, principal.jurisdiction)
    if request.requested_by_id != principal.user_id and not covers_whole_hall(
        principal, request, wide=provincial
    ):
        raise missing_request(request_id)  # a department sees its requests but does not decide: still hidden
    problem = decide_problem(principal, request, provincial)
    if problem is not None:
        raise problem
    return request


def approve(
    session: Session,
    *,
    principal: Principal,
    request_id: int,
    note: str | None,
    now: datetime,
    calendar: WorkCalendar,
    default_profile_key: str,
) -> ApprovalOut:
    """Approve and apply in one transaction; a kind that refuses (409) leaves the request pending."""
    try:
        request = _decidable(session, principal, request_id)
        kind = get_kind(request.kind)
        if kind is None:
            raise conflict(
                f"kind {request.kind} is not available here", f"申请类型“{request.kind}”当前不可用。"
            )
        ctx = KindContext(session, now, principal.actor, calendar, default_profile_key)
        result = kind.apply(ctx, request)
        _decide(request, principal, ApprovalStatus.APPROVED, note, now)
        request.result = json.dumps(result, ensure_ascii=False, sort_keys=True, default=str)
        _audit(
            session, principal, "approval.approve", request, {"status": "pending"}, _decision(request), now
        )
        session.commit()
    except ApprovalError:
        session.rollback()
        raise
    except IntegrityError as exc:
        session.rollback()
        raise conflict(
            "someone changed the same record at the same time; nothing was applied, try again",
            "同一记录正被他人修改，本次未生效，请重试。",
        ) from exc
    logger.info("%s approved #%s (%s)", principal.username, request.id, request.kind)
    return approval_out(session, request, principal=principal)


def reject(
    session: Session, *, principal: Principal, request_id: int, note: str, now: datetime
) -> ApprovalOut:
    if not note.strip():
        raise bad_payload("a rejection needs a note", "驳回时请填写意见。")
    try:
        request = _decidable(session, principal, request_id)
    except ApprovalError:
        session.rollback()
        raise
    _decide(request, principal, ApprovalStatus.REJECTED, note, now)
    _audit(session, principal, "approval.reject", request, {"status": "pending"}, _decision(request), now)
    session.commit()
    logger.info("%s rejected #%s (%s)", principal.username, request.id, request.kind)
    return approval_out(session, request, principal=principal)


def withdraw(session: Session, *, principal: Principal, request_id: int, now: datetime) -> ApprovalOut:
    """The requester takes back a pending request."""
    try:
        request = visible_request(session, principal, request_id, lock=True)
        if request.requested_by_id != principal.user_id:
            raise forbidden("only the requester may withdraw a request", "只有申请人可以撤回申请。")
        if request.status != ApprovalStatus.PENDING.value:
            raise conflict(
                f"request #{request.id} is {request.status}, not pending", "申请已处理，不能撤回。"
            )
    except ApprovalError:
        session.rollback()
        raise
    request.status = ApprovalStatus.WITHDRAWN.value
    request.decided_at = now
    _audit(
        session,
        principal,
        "approval.withdraw",
        request,
        {"status": "pending"},
        {"status": request.status},
        now,
    )
    session.commit()
    return approval_out(session, request, principal=principal)


def _decide(
    request: ApprovalRequest, principal: Principal, status: ApprovalStatus, note: str | None, now: datetime
) -> None:
    request.status = status.value
    request.decided_by_id = principal.user_id
    request.decided_at = now
    request.decision_note = (note or "").strip() or None


def _decision(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "status": request.status,
        "note": request.decision_note,
        "result": json.loads(request.result) if request.result else None,
    }


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    request: ApprovalRequest,
    before: Any,
    after: Any,
    now: datetime,
) -> None:
    record(
        session,
        actor=principal.actor,
        action=action,
        target_type="approval",
        target_id=str(request.id),
        before=before,
        after=after,
        at=now,
    )


__all__ = [
    "approve",
    "create_request",
    "reject",
    "withdraw",
]
