"""API routes of sampling supervision (抽样监察, SC-6(4)) under /api/v1/sampling. Thin: authorise,
call the service, shape. Refusals carry `message`, the zh-CN text the page shows."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from central.access.deps import PrincipalDep
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.sampling.queries import coverage, draw_detail, list_draws, my_pending, visible_draw
from central.sampling.review import may_sample, review_case
from central.sampling.schemas import (
    MONTH,
    CoverageRow,
    DrawCreate,
    DrawPublic,
    ReviewIn,
    SampleCasePublic,
    SamplingError,
    VerifyPublic,
)
from central.sampling.service import create_draw, verify_draw

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/sampling", tags=["sampling"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Month = Annotated[str, Query(pattern=MONTH, description="YYYY-MM")]
REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "the role may not sample, the scope is outside the jurisdiction, or another reviewer's case"
    },
    404: {"description": "no such draw or sampled case in the caller's jurisdiction"},
    409: {"description": "month not over, already drawn, no reviewer, or already reviewed"},
}


def _refused(exc: SamplingError) -> JSONResponse:
    return JSONResponse({"detail": exc.detail, "message": exc.zh}, status_code=exc.status_code)


@router.post("/draws", response_model=DrawPublic, status_code=201, responses=REFUSALS)
def draw(
    body: DrawCreate, principal: PrincipalDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> DrawPublic | JSONResponse:
    """Draw a finished month's closed cases in a scope (one draw per month and scope), reviewers
    dealt by the draw; the seed is recorded for `GET /draws/{id}/verify`."""
    try:
        may_sample(principal)
        made = create_draw(
            session,
            month=body.month,
            scope_code=body.scope,
            within=principal.jurisdiction,
            actor=principal.actor,
            drawn_by_id=principal.user_id,
            now=now,
            default_profile=settings.rule_profile,
            note=body.note,
        )
        session.commit()
        return draw_detail(session, draw_id=made.id, principal=principal)
    except SamplingError as exc:
        session.rollback()
        return _refused(exc)


@router.get("/draws", response_model=list[DrawPublic], responses=REFUSALS)
def draws(
    principal: PrincipalDep, session: SessionDep, month: Month | None = None
) -> list[DrawPublic] | JSONResponse:
    try:
        return list_draws(session, principal=principal, month=month)
    except SamplingError as exc:
        return _refused(exc)


@router.get("/draws/{draw_id}", response_model=DrawPublic, responses=REFUSALS)
def one_draw(draw_id: Id, principal: PrincipalDep, session: SessionDep) -> DrawPublic | JSONResponse:
    try:
        return draw_detail(session, draw_id=draw_id, principal=principal)
    except SamplingError as exc:
        return _refused(exc)


@router.get("/draws/{draw_id}/verify", response_model=VerifyPublic, responses=REFUSALS)
def verify(draw_id: Id, principal: PrincipalDep, session: SessionDep) -> VerifyPublic | JSONResponse:
    """Recompute the draw from its recorded seed, as the case log stood when it was drawn."""
    try:
        return verify_draw(session, draw=visible_draw(session, draw_id=draw_id, principal=principal))
    except SamplingError as exc:
        return _refused(exc)


@router.get("/mine", response_model=list[SampleCasePublic], responses=REFUSALS)
def mine(principal: PrincipalDep, session: SessionDep) -> list[SampleCasePublic] | JSONResponse:
    """The sampled cases dealt to me that I have not reviewed yet."""
    try:
        return my_pending(session, principal=principal)
    except SamplingError as exc:
        return _refused(exc)


@router.post("/cases/{sample_case_id}/review", response_model=SampleCasePublic, responses=REFUSALS)
def review(
    sample_case_id: Id,
    body: ReviewIn,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> SampleCasePublic | JSONResponse:
    """合规, or 不合规 citing the rule (a signal reason): 不合规 raises the signal."""
    try:
        reviewed = review_case(
            session,
            sample_case_id=sample_case_id,
            body=body,
            principal=principal,
            now=now,
            calendar=calendar,
            default_profile=settings.rule_profile,
        )
        session.commit()
        detail = draw_detail(session, draw_id=reviewed.draw_id, principal=principal)
    except SamplingError as exc:
        session.rollback()
        return _refused(exc)
    return next(c for c in detail.cases if c.id == reviewed.id)


@router.get("/coverage", response_model=list[CoverageRow], responses=REFUSALS)
def month_coverage(
    principal: PrincipalDep, session: SessionDep, month: Month
) -> list[CoverageRow] | JSONResponse:
    """Per department of my jurisdiction: the month's closed cases, drawn, reviewed, non-compliant."""
    try:
        return coverage(session, month=month, principal=principal)
    except SamplingError as exc:
        return _refused(exc)
