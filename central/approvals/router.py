"""API routes for approvals (SC-18): ask, list, read, approve, reject, withdraw."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Body, HTTPException, Path, Query

from central.access.deps import PrincipalDep
from central.approvals.kinds import ApprovalError, ApprovalStatus
from central.approvals.queries import get_request, list_requests
from central.approvals.schemas import ApprovalIn, ApprovalOut, ApproveIn, RejectIn
from central.approvals.service import approve, create_request, reject, withdraw
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/approvals", tags=["approvals"])

T = TypeVar("T")
RequestId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The request's id.")]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "not allowed to decide (role, own request, or level)"},
    404: {"description": "no such request, or not in your jurisdiction"},
    409: {"description": "not pending, or the change can no longer be applied"},
}


def _answer(call: Callable[[], T]) -> T:
    try:
        return call()
    except ApprovalError as exc:
        raise HTTPException(exc.status_code, exc.detail) from exc


@router.post("", response_model=ApprovalOut, status_code=201, responses=ERRORS)
def post_request(
    body: ApprovalIn,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    principal: PrincipalDep,
) -> ApprovalOut:
    return _answer(
        lambda: create_request(
            session,
            requester=principal,
            kind=body.kind,
            target=body.target,
            payload=body.payload,
            reason=body.reason,
            now=now,
            calendar=calendar,
            default_profile_key=settings.rule_profile,
        )
    )


@router.get("", response_model=list[ApprovalOut])
def read_requests(
    session: SessionDep,
    principal: PrincipalDep,
    status: ApprovalStatus | None = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    inbox: Annotated[bool, Query(description="Only pending requests you may decide.")] = False,
    mine: Annotated[bool, Query(description="Only your own requests.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ApprovalOut]:
    return list_requests(
        session, principal=principal, status=status, kind=kind, inbox=inbox, mine=mine, limit=limit
    )


@router.get("/{request_id}", response_model=ApprovalOut, responses=ERRORS)
def read_request(request_id: RequestId, session: SessionDep, principal: PrincipalDep) -> ApprovalOut:
    return _answer(lambda: get_request(session, principal=principal, request_id=request_id))


@router.post("/{request_id}/approve", response_model=ApprovalOut, responses=ERRORS)
def post_approve(
    request_id: RequestId,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    principal: PrincipalDep,
    body: Annotated[ApproveIn | None, Body()] = None,
) -> ApprovalOut:
    return _answer(
        lambda: approve(
            session,
            principal=principal,
            request_id=request_id,
            note=body.note if body else None,
            now=now,
            calendar=calendar,
            default_profile_key=settings.rule_profile,
        )
    )


@router.post("/{request_id}/reject", response_model=ApprovalOut, responses=ERRORS)
def post_reject(
    request_id: RequestId, body: RejectIn, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> ApprovalOut:
    return _answer(
        lambda: reject(session, principal=principal, request_id=request_id, note=body.note, now=now)
    )


@router.post("/{request_id}/withdraw", response_model=ApprovalOut, responses=ERRORS)
def post_withdraw(
    request_id: RequestId, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> ApprovalOut:
    return _answer(lambda: withdraw(session, principal=principal, request_id=request_id, now=now))
