"""API routes of the patrol plan (SC-6(1)): GET /api/v1/patrols/plan?date=D.

The plan is for supervising bodies: region (or deployment) scopes holding `patrols.patrol`. A hall or
department is patrolled, never told when (the draw exists so that nobody can prepare for it).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from central.access.deps import Principal, PrincipalDep
from central.core.clock import shanghai_date
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.patrols.bodies import supervising_bodies
from central.patrols.patrollers import patrol_refusal
from central.patrols.queries import plan_public
from central.patrols.schemas import BodyPublic, PlanPublic, PlanQuery
from central.patrols.service import PlanRefused, plan_of_day

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/patrols", tags=["patrols"])


def require_supervising_body(principal: PrincipalDep) -> Principal:
    refusal = patrol_refusal(principal)
    if refusal is not None:
        raise HTTPException(403, refusal)
    return principal


Patroller = Annotated[Principal, Depends(require_supervising_body)]


@router.get("/bodies", response_model=list[BodyPublic])
def read_bodies(session: SessionDep, principal: Patroller) -> list[BodyPublic]:
    """The supervising bodies in the caller's jurisdiction and their inspectors."""
    return supervising_bodies(session, within=principal.jurisdiction)


@router.get(
    "/plan",
    response_model=PlanPublic,
    responses={
        404: {"description": "a past working day without a published plan"},
        409: {"description": "a day after today (drawn on the day), or a year missing from the calendar"},
        503: {"description": "no draw key configured"},
    },
)
def read_plan(
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    principal: Patroller,
    query: Annotated[PlanQuery, Query()],
) -> PlanPublic:
    """The day's plan for the caller's jurisdiction; today's is drawn now if nobody asked before."""
    today = shanghai_date(now)
    day = query.date or today
    try:
        plan = plan_of_day(
            session,
            day=day,
            today=today,
            calendar=calendar,
            key_file=settings.patrol_key_file,
            default_profile_key=settings.rule_profile,
            now=now,
        )
    except PlanRefused as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    if plan is None:
        return PlanPublic(day=day, working_day=False)
    return plan_public(session, plan, within=principal.jurisdiction)
