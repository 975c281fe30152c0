"""Who sees and who decides an approval request (SC-13/14, SC-18), as pure checks and SQL clauses.

Sees: the requester, and deciders (Permission.APPROVALS_DECIDE) whose jurisdiction includes the
target's hall (a department: its own requests' department). Decides: a decider other than the
requester whose jurisdiction covers the whole hall, and for the province level one whose scope is
the deployment or a province region. Another jurisdiction's request answers 404 like a missing one.
"""

from __future__ import annotations

import logging

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.roles import Permission
from central.approvals.kinds import ApprovalError, ApprovalStatus, Level, conflict, forbidden, not_found
from central.approvals.models import ApprovalRequest
from central.registry.jurisdiction import Jurisdiction, ScopeKind, is_deployment_wide

logger = logging.getLogger(__name__)


def no_right(principal: Principal) -> ApprovalError | None:
    if principal.may(Permission.APPROVALS_DECIDE):
        return None
    return forbidden(
        f"your role ({principal.role.value}) may not {Permission.APPROVALS_DECIDE.value}",
        "您的角色无权审批。",
    )


def missing_request(request_id: int) -> ApprovalError:
    return not_found(
        f"no approval request #{request_id}", f"没有编号为 #{request_id} 的申请，或不在您的辖区内。"
    )


def includes(jurisdiction: Jurisdiction, request: ApprovalRequest, *, wide: bool = False) -> bool:
    """`wide`: the jurisdiction is deployment-wide; a request without a hall (a deployment-wide
    setting such as a calendar year) belongs to those scopes only."""
    if jurisdiction.kind is ScopeKind.DEPLOYMENT:
        return True
    if request.hall_id is None:
        return wide
    if jurisdiction.kind is ScopeKind.DEPARTMENT:
        return request.department_id == jurisdiction.scope_id
    return request.hall_id in jurisdiction.hall_ids


def includes_clause(
    jurisdiction: Jurisdiction, *, whole_hall: bool, wide: bool = False
) -> ColumnElement[bool]:
    if jurisdiction.kind is ScopeKind.DEPLOYMENT:
        return true()
    hall_less = ApprovalRequest.hall_id.is_(None) if wide else false()
    if jurisdiction.kind is ScopeKind.DEPARTMENT:
        return false() if whole_hall else ApprovalRequest.department_id == jurisdiction.scope_id
    ids = sorted(jurisdiction.hall_ids)
    return or_(ApprovalRequest.hall_id.in_(ids), hall_less) if ids else hall_less


def sees(principal: Principal, request: ApprovalRequest, *, wide: bool = False) -> bool:
    if request.requested_by_id == principal.user_id:
        return True
    return principal.may(Permission.APPROVALS_DECIDE) and includes(principal.jurisdiction, request, wide=wide)


def decide_problem(principal: Principal, request: ApprovalRequest, provincial: bool) -> ApprovalError | None:
    """Why `principal` may not decide `request` now (None: they may).

    Assumes their jurisdiction covers the request's whole hall (`covers_whole_hall`)."""
    refused = no_right(principal)
    if refused is not None:
        return refused
    if request.requested_by_id == principal.user_id:
        return forbidden("you cannot decide your own request", "不能审批自己的申请。")
    if request.level == Level.PROVINCE.value and not provincial:
        return forbidden(
            "this request needs provincial approval: an approver whose jurisdiction is the deployment (*) "
            "or a province region",
            "此申请需省级审批：审批人的辖区应为全省（省级区划）或全系统。",
        )
    if request.status != ApprovalStatus.PENDING.value:
        return conflict(
            f"request #{request.id} is {request.status}, not pending",
            f"申请 #{request.id} 已处理（{request.status}），不能再审批。",
        )
    return None


def load_request(session: Session, request_id: int, *, lock: bool) -> ApprovalRequest | None:
    query = select(ApprovalRequest).where(ApprovalRequest.id == request_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # two deciders at once: the second waits, then sees it decided
    return session.scalar(query)


def visible_request(
    session: Session, principal: Principal, request_id: int, *, lock: bool = False
) -> ApprovalRequest:
    request = load_request(session, request_id, lock=lock)
    wide = (
        request is not None
        and request.hall_id is None
        and is_deployment_wide(session, principal.jurisdiction)
    )
    if request is None or not sees(principal, request, wide=wide):
        raise missing_request(request_id)
    return request


def covers_whole_hall(principal: Principal, request: ApprovalRequest, *, wide: bool = False) -> bool:
    """The bureau at the target's level or above: a department scope never decides; a request
    without a hall is decided by deployment-wide scopes only (`wide`)."""
    jurisdiction = principal.jurisdiction
    if jurisdiction.kind is ScopeKind.DEPLOYMENT:
        return True
    if request.hall_id is None:
        return wide
    return jurisdiction.covers_hall(request.hall_id)
