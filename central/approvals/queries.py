"""Read approval requests: one, or the caller's lists (inbox, mine, filtered), in the API shape."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.models import User
from central.access.roles import Permission
from central.approvals.kinds import ApprovalStatus, Level, kind_label, payload_of
from central.approvals.models import ApprovalRequest
from central.approvals.rules import (
    covers_whole_hall,
    decide_problem,
    includes_clause,
    visible_request,
)
from central.approvals.schemas import ApprovalOut
from central.registry.jurisdiction import is_deployment_wide
from central.registry.models import Hall

logger = logging.getLogger(__name__)

MAX_LIST = 500


def get_request(session: Session, *, principal: Principal, request_id: int) -> ApprovalOut:
    return approval_out(session, visible_request(session, principal, request_id), principal=principal)


def list_requests(
    session: Session,
    *,
    principal: Principal,
    status: ApprovalStatus | None = None,
    kind: str | None = None,
    inbox: bool = False,
    mine: bool = False,
    limit: int = 100,
) -> list[ApprovalOut]:
    """Requests the caller can see, newest first; `inbox`: pending ones they may decide now."""
    query = select(ApprovalRequest)
    me = ApprovalRequest.requested_by_id == principal.user_id
    decider = principal.may(Permission.APPROVALS_DECIDE)
    provincial = is_deployment_wide(session, principal.jurisdiction)
    if decider:
        query = query.where(
            or_(me, includes_clause(principal.jurisdiction, whole_hall=False, wide=provincial))
        )
    else:
        query = query.where(me)
    if inbox:
        query = query.where(
            ApprovalRequest.status == ApprovalStatus.PENDING.value,
            ApprovalRequest.requested_by_id != principal.user_id,
            includes_clause(principal.jurisdiction, whole_hall=True, wide=provincial) if decider else false(),
        )
        if not provincial:
            query = query.where(ApprovalRequest.level != Level.PROVINCE.value)
    if mine:
        query = query.where(me)
    if status is not None:
        query = query.where(ApprovalRequest.status == status.value)
    if kind:
        query = query.where(ApprovalRequest.kind == kind)
    rows = session.scalars(
        query.order_by(ApprovalRequest.requested_at.desc(), ApprovalRequest.id.desc()).limit(
            min(limit, MAX_LIST)
        )
    ).all()
    return _many_out(session, rows, principal=principal, provincial=provincial)


def _many_out(
    session: Session, rows: Sequence[ApprovalRequest], *, principal: Principal, provincial: bool
) -> list[ApprovalOut]:
    user_ids = {r.requested_by_id for r in rows} | {r.decided_by_id for r in rows if r.decided_by_id}
    hall_ids = {r.hall_id for r in rows if r.hall_id is not None}
    user_rows = session.execute(select(User.id, User.username).where(User.id.in_(sorted(user_ids))))
    hall_rows = session.execute(select(Hall.id, Hall.code).where(Hall.id.in_(sorted(hall_ids))))
    users = {user_id: name for user_id, name in user_rows}
    halls = {hall_id: code for hall_id, code in hall_rows}
    return [_shape(r, users, halls, principal=principal, provincial=provincial) for r in rows]


def approval_out(session: Session, request: ApprovalRequest, *, principal: Principal) -> ApprovalOut:
    provincial = is_deployment_wide(session, principal.jurisdiction)
    return _many_out(session, [request], principal=principal, provincial=provincial)[0]


def _shape(
    request: ApprovalRequest,
    users: dict[int, str],
    halls: dict[int, str],
    *,
    principal: Principal,
    provincial: bool,
) -> ApprovalOut:
    can_decide = (
        covers_whole_hall(principal, request, wide=provincial)
        and decide_problem(principal, request, provincial) is None
    )
    pending = request.status == ApprovalStatus.PENDING.value
    return ApprovalOut(
        id=request.id,
        kind=request.kind,
        kind_label=kind_label(request.kind),
        level=Level(request.level),
        status=ApprovalStatus(request.status),
        target_type=request.target_type,
        target_id=request.target_id,
        payload=payload_of(request),
        reason=request.reason,
        hall_code=halls.get(request.hall_id) if request.hall_id is not None else None,
        requested_by=users.get(request.requested_by_id, f"#{request.requested_by_id}"),
        requested_at=request.requested_at,
        decided_by=users.get(request.decided_by_id) if request.decided_by_id else None,
        decided_at=request.decided_at,
        decision_note=request.decision_note,
        result=json.loads(request.result) if request.result else None,
        usable_until=request.usable_until,
        can_decide=can_decide,
        can_withdraw=pending and request.requested_by_id == principal.user_id,
    )


__all__ = ["approval_out", "get_request", "list_requests"]
