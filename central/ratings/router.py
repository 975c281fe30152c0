"""API routes for what central does with ratings (HCP): follow-ups of 差评 and their steps,
exclusion requests, satisfaction figures and the national 好差评 export.

Reading needs Permission.CASES_READ and stays inside the caller's jurisdiction; the steps check
their own roles (`central.ratings.followups`). Importing this module registers the approval kind
``rating_exclusion`` and the bad-rating hook that opens follow-ups.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from central.access.deps import CasesReader, Principal, PrincipalDep
from central.approvals.kinds import ApprovalError
from central.approvals.schemas import ApprovalOut
from central.core.clock import shanghai_date
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.core.types import Day
from central.exports.tables import ExportFormat, ExportTooLarge
from central.ratings.exclusion import request_exclusion
from central.ratings.export import RatingFilters, export_ratings
from central.ratings.figures import RangeError, date_range, satisfaction_figures
from central.ratings.followup_queries import FollowUpFilters, get_followup, list_followups
from central.ratings.followups import FollowUpError, close_followup, record_callback, record_rectification
from central.ratings.labels import FollowUpStatus
from central.ratings.prompt_router import router as prompt_router
from central.ratings.schemas import (
    CallbackIn,
    CloseIn,
    ExclusionIn,
    FigureBy,
    FiguresOut,
    FollowUpOut,
    FollowUpPage,
    RectifyIn,
)
from central.registry.document import CODE_PATTERN

logger = logging.getLogger(__name__)
api = APIRouter(prefix="/ratings", tags=["ratings"])  # this module's routes; `router` is mounted

T = TypeVar("T")
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
From = Annotated[
    Day | None, Query(alias="from", description="First Shanghai day (default: 29 days before `to`).")
]
To = Annotated[Day | None, Query(alias="to", description="Last Shanghai day (default: today).")]
Code = Annotated[str | None, Query(max_length=40, pattern=CODE_PATTERN)]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "your role may not take this step"},
    404: {"description": "no such follow-up, or not in your jurisdiction"},
    409: {"description": "the step cannot happen now (wrong status, or the rating was excluded)"},
    422: {"description": "bad input"},
}


def _answer(session: Session, call: Callable[[], T]) -> T:
    """Run a step and commit; a refused one changes nothing."""
    try:
        result = call()
    except FollowUpError as exc:
        session.rollback()
        raise HTTPException(exc.status_code, exc.detail) from exc
    session.commit()
    return result


def _range(date_from: date | None, date_to: date | None, today: date) -> tuple[date, date]:
    try:
        return date_range(date_from, date_to, today=today)
    except RangeError as exc:
        raise HTTPException(422, str(exc)) from exc


@api.get("/followups", response_model=FollowUpPage)
def read_followups(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: CasesReader,
    date_from: From = None,
    date_to: To = None,
    status: FollowUpStatus | None = None,
    overdue: Annotated[bool, Query(description="Only those not rectified past their deadline.")] = False,
    hall: Code = None,
    department: Code = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=10_000)] = 50,
) -> FollowUpPage:
    """Follow-ups of 差评 inside the caller's jurisdiction, newest first (filter by the 差评's day)."""
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size is at most {settings.page_size_max}")
    if date_from and date_to and date_from > date_to:
        raise HTTPException(422, "from is after to")
    filters = FollowUpFilters(
        within=principal.jurisdiction,
        status=status,
        overdue=overdue,
        hall_code=hall,
        department_code=department,
        rated_from=date_from,
        rated_to=date_to,
    )
    today = shanghai_date(now)
    return list_followups(
        session, principal=principal, filters=filters, today=today, page=page, page_size=page_size
    )


@api.get("/followups/{followup_id}", response_model=FollowUpOut, responses=ERRORS)
def read_followup(followup_id: Id, session: SessionDep, now: NowDep, principal: CasesReader) -> FollowUpOut:
    try:
        return get_followup(session, principal=principal, followup_id=followup_id, today=shanghai_date(now))
    except FollowUpError as exc:
        raise HTTPException(exc.status_code, exc.detail) from exc


def _after_step(session: Session, principal: Principal, followup_id: int, now: datetime) -> FollowUpOut:
    return get_followup(session, principal=principal, followup_id=followup_id, today=shanghai_date(now))


@api.post("/followups/{followup_id}/callback", response_model=FollowUpOut, responses=ERRORS)
def post_callback(
    followup_id: Id, body: CallbackIn, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> FollowUpOut:
    """回访: record who called the citizen, when, and the result (post users)."""
    _answer(
        session,
        lambda: record_callback(session, principal=principal, followup_id=followup_id, body=body, now=now),
    )
    return _after_step(session, principal, followup_id, now)


@api.post("/followups/{followup_id}/rectify", response_model=FollowUpOut, responses=ERRORS)
def post_rectify(
    followup_id: Id, body: RectifyIn, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> FollowUpOut:
    """整改: record what was done (post users; after the callback)."""
    _answer(
        session,
        lambda: record_rectification(
            session, principal=principal, followup_id=followup_id, body=body, now=now
        ),
    )
    return _after_step(session, principal, followup_id, now)


@api.post("/followups/{followup_id}/close", response_model=FollowUpOut, responses=ERRORS)
def post_close(
    followup_id: Id, body: CloseIn, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> FollowUpOut:
    """办结 (inspectors; after the rectification), with the citizen's optional re-rating."""
    _answer(
        session,
        lambda: close_followup(session, principal=principal, followup_id=followup_id, body=body, now=now),
    )
    return _after_step(session, principal, followup_id, now)


@api.post("/{rating_id}/exclusion", response_model=ApprovalOut, status_code=201, responses=ERRORS)
def post_exclusion(
    rating_id: Id,
    body: ExclusionIn,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    principal: PrincipalDep,
) -> ApprovalOut:
    """Ask for a mistaken or malicious 差评 to be excluded: a pending approval request
    (``rating_exclusion``, provincial level); the rating changes only when someone else approves."""
    try:
        return request_exclusion(
            session,
            requester=principal,
            rating_id=rating_id,
            reason=body.reason,
            now=now,
            calendar=calendar,
            default_profile_key=settings.rule_profile,
        )
    except ApprovalError as exc:
        raise HTTPException(exc.status_code, exc.detail) from exc


@api.get("/figures", response_model=FiguresOut, responses={422: {"description": "bad date range"}})
def read_figures(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: CasesReader,
    by: FigureBy = FigureBy.DEPARTMENT,
    date_from: From = None,
    date_to: To = None,
) -> FiguresOut:
    """Satisfaction per window, staff member, department, hall or day (excluded ratings left out,
    weights applied); definitions in `central.ratings.figures`."""
    start, end = _range(date_from, date_to, shanghai_date(now))
    return satisfaction_figures(
        session,
        within=principal.jurisdiction,
        by=by,
        date_from=start,
        date_to=end,
        default_profile=settings.rule_profile,
    )


@api.get(
    "/export",
    response_class=FileResponse,
    responses={
        200: {
            "description": "Ratings in the national 好差评 field shape (e.g. ratings-20261101-20261130.xlsx).",
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            },
        },
        422: {"description": "bad date range, or more ratings than one export may hold"},
    },
)
def export(
    session: SessionDep,
    now: NowDep,
    principal: CasesReader,
    format: ExportFormat,
    date_from: From = None,
    date_to: To = None,
    include_excluded: Annotated[bool, Query(description="Excluded ratings too, marked 已剔除.")] = True,
) -> FileResponse:
    """The ratings of a date range as CSV (UTF-8 with BOM) or Excel; every export is audited."""
    start, end = _range(date_from, date_to, shanghai_date(now))
    filters = RatingFilters(
        within=principal.jurisdiction, date_from=start, date_to=end, include_excluded=include_excluded
    )
    try:
        exported = export_ratings(session, filters=filters, fmt=format, now=now, actor=principal.actor)
    except ExportTooLarge as exc:
        raise HTTPException(422, str(exc)) from exc
    try:
        session.commit()  # the audit entry stands before a byte is sent
    except BaseException:
        exported.path.unlink(missing_ok=True)
        raise
    return FileResponse(
        exported.path,
        media_type=exported.media_type,
        filename=exported.filename,
        background=BackgroundTask(exported.path.unlink, missing_ok=True),
    )


# Mounted by central.app under /api/v1 with a signed-in principal: these routes and the staff
# member's "request rating" (POST /ratings/prompts, central.ratings.prompt_router).
router = APIRouter()
router.include_router(api)
router.include_router(prompt_router)
