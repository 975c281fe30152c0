"""API routes of patrol sessions (issue 15 item 4), under /api/v1/patrols/sessions: open one for a
task (or a hall), watch its windows (offers relayed as any live view, tied to the patrol), post the
browser's viewing statistics, record findings, end it. Thin: authorise, call the service, shape."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from central.access.deps import Principal, PrincipalDep
from central.core.clock import shanghai_date
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.live.schemas import OfferIn, OfferOut
from central.live.service import request_view
from central.live.turn_credentials import LiveIce
from central.live.views import LiveRefused
from central.patrols.findings import record_finding
from central.patrols.schemas import (
    FindingIn,
    FindingPublic,
    PatrolEndIn,
    PatrolPublic,
    PatrolStartIn,
    ViewingBatch,
)
from central.patrols.session_queries import finding_public, patrol_public
from central.patrols.sessions import (
    PatrolRefused,
    end_patrol,
    may_patrol,
    own_open_patrol,
    patrol_hall_code,
    start_patrol,
    visible_patrol,
)
from central.patrols.viewing import judge_patrol, report_viewing
from central.profiles.assignment import profile_for_hall

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/patrols/sessions", tags=["patrols"])

PatrolId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NO_STORE = {"Cache-Control": "no-store"}


def require_patroller(principal: PrincipalDep) -> Principal:
    refusal = may_patrol(principal)
    if refusal is not None:
        raise HTTPException(403, refusal)
    return principal


Patroller = Annotated[Principal, Depends(require_patroller)]


def _http(exc: PatrolRefused | LiveRefused) -> HTTPException:
    return HTTPException(exc.status_code, exc.detail)


@router.post("", response_model=PatrolPublic, status_code=201)
def open_patrol(body: PatrolStartIn, principal: Patroller, session: SessionDep, now: NowDep) -> PatrolPublic:
    """Open a patrol of a task of today's plan, or an unplanned one of a hall (an open one is resumed)."""
    try:
        patrol = start_patrol(
            session,
            principal=principal,
            task_id=body.task,
            hall_code=body.hall,
            today=shanghai_date(now),
            now=now,
        )
    except PatrolRefused as exc:
        raise _http(exc) from exc
    session.commit()
    return patrol_public(session, patrol)


@router.get("/{patrol_id}", response_model=PatrolPublic)
def read_patrol(patrol_id: PatrolId, principal: Patroller, session: SessionDep) -> PatrolPublic:
    try:
        patrol = visible_patrol(session, patrol_id=patrol_id, principal=principal)
    except PatrolRefused as exc:
        raise _http(exc) from exc
    return patrol_public(session, patrol)


@router.post("/{patrol_id}/offer", response_model=OfferOut)
async def offer(
    patrol_id: PatrolId,
    body: OfferIn,
    request: Request,
    response: Response,
    principal: Patroller,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> OfferOut:
    """A live view of one of the patrolled hall's cameras, counted in the patrol's proof of viewing."""
    try:
        patrol = await run_in_threadpool(own_open_patrol, session, patrol_id=patrol_id, principal=principal)
        hall_code = await run_in_threadpool(patrol_hall_code, session, patrol)
        if body.hall != hall_code:
            raise PatrolRefused(422, f"patrol {patrol_id} watches hall {hall_code}, not {body.hall[:40]}")
        answer = await request_view(
            session,
            replies=request.app.state.replies,
            offer=body,
            principal=principal,
            ice=LiveIce.from_settings(settings),
            now=now,
            timeout=settings.live_answer_timeout_seconds,
            default_profile_key=settings.rule_profile,
            patrol_session_id=patrol_id,
        )
    except (PatrolRefused, LiveRefused) as exc:
        raise _http(exc) from exc
    response.headers.update(NO_STORE)
    return answer


@router.post("/{patrol_id}/viewing")
def post_viewing(
    patrol_id: PatrolId, body: ViewingBatch, principal: Patroller, session: SessionDep, now: NowDep
) -> dict[str, int]:
    """The browser's WebRTC statistics of the patrol's views (frames decoded, packets received)."""
    try:
        patrol = visible_patrol(session, patrol_id=patrol_id, principal=principal)
        if patrol.inspector_id != principal.user_id:
            raise PatrolRefused(403, "only the patrol's own inspector reports its viewing")
    except PatrolRefused as exc:
        raise _http(exc) from exc
    updated = report_viewing(session, patrol=patrol, items=body.views, now=now)
    session.commit()
    return {"updated": updated}


@router.post("/{patrol_id}/findings", response_model=FindingPublic, status_code=201)
def post_finding(
    patrol_id: PatrolId,
    body: FindingIn,
    principal: Patroller,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> FindingPublic:
    """A finding at a window; the hall's agent is asked for its snapshot and the clip before it."""
    try:
        patrol = own_open_patrol(session, patrol_id=patrol_id, principal=principal)
        rules = profile_for_hall(session, hall_id=patrol.hall_id, default_key=settings.rule_profile).patrols
        finding = record_finding(session, patrol=patrol, body=body, principal=principal, rules=rules, now=now)
    except PatrolRefused as exc:
        raise _http(exc) from exc
    session.commit()
    return finding_public(session, finding)


@router.post("/{patrol_id}/end", response_model=PatrolPublic)
def end(
    patrol_id: PatrolId,
    body: PatrolEndIn,
    principal: Patroller,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> PatrolPublic:
    """End the patrol: its views close, and it is judged once the edge reports what it sent."""
    try:
        patrol = own_open_patrol(session, patrol_id=patrol_id, principal=principal)
        end_patrol(session, patrol=patrol, actor=principal.actor, note=body.note, now=now)
    except PatrolRefused as exc:
        raise _http(exc) from exc
    rules = profile_for_hall(session, hall_id=patrol.hall_id, default_key=settings.rule_profile).patrols
    judge_patrol(session, patrol=patrol, rules=rules, now=now, final=False)
    session.commit()
    return patrol_public(session, patrol)
