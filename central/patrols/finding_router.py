"""API routes of patrol findings' review (issue 15 item 5), under /api/v1/patrols/findings: the list
for supervisors of their jurisdiction, confirming (raises the signal) and dismissing (needs a reason).
Thin: authorise, call the service, shape. Refusals carry `message`, the zh-CN text the page shows."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import JSONResponse

from central.access.deps import PrincipalDep
from central.access.roles import Permission
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.patrols.finding_queries import list_findings
from central.patrols.review import ReviewRefused, confirm_finding, dismiss_finding
from central.patrols.schemas import FindingListQuery, FindingPage, FindingPublic, FindingReviewIn
from central.patrols.session_queries import finding_public

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/patrols/findings", tags=["patrols"])

FindingId = Annotated[int, Path(ge=1, le=2**31 - 1)]
REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "the role may not review findings"},
    404: {"description": "no such finding in the caller's jurisdiction"},
    409: {"description": "already decided, or the window belongs to no department"},
}


def _refused(exc: ReviewRefused) -> JSONResponse:
    return JSONResponse({"detail": exc.detail, "message": exc.zh}, status_code=exc.status_code)


@router.get("", response_model=FindingPage)
def read_findings(
    principal: PrincipalDep, session: SessionDep, query: Annotated[FindingListQuery, Query()]
) -> FindingPage:
    """Findings of the caller's jurisdiction, newest first, by review status and hall."""
    if not principal.may(Permission.SIGNALS_SUPERVISE):
        raise HTTPException(
            403, f"your role ({principal.role.value}) may not {Permission.SIGNALS_SUPERVISE.value}"
        )
    return list_findings(
        session,
        principal=principal,
        status=query.status,
        hall_code=query.hall,
        page=query.page,
        page_size=query.page_size,
    )


@router.post("/{finding_id}/confirm", response_model=FindingPublic, responses=REFUSALS)
def confirm(
    finding_id: FindingId,
    body: FindingReviewIn,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> FindingPublic | JSONResponse:
    """已确认: raises one yellow signal (origin patrol) that may be investigated (SC-9)."""
    try:
        finding = confirm_finding(
            session,
            finding_id=finding_id,
            principal=principal,
            note=body.note,
            now=now,
            calendar=calendar,
            default_profile=settings.rule_profile,
        )
    except ReviewRefused as exc:
        session.rollback()
        return _refused(exc)
    session.commit()
    return finding_public(session, finding)


@router.post("/{finding_id}/dismiss", response_model=FindingPublic, responses=REFUSALS)
def dismiss(
    finding_id: FindingId, body: FindingReviewIn, principal: PrincipalDep, session: SessionDep, now: NowDep
) -> FindingPublic | JSONResponse:
    """不予认定: needs the reason in `note`; the finding stays, with its status, in the ledger."""
    try:
        finding = dismiss_finding(
            session, finding_id=finding_id, principal=principal, note=body.note, now=now
        )
    except ReviewRefused as exc:
        session.rollback()
        return _refused(exc)
    session.commit()
    return finding_public(session, finding)
