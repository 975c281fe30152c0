"""Calendar API: coverage, one year's days, and administrator entry of a new year."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from central.access.scope import CalendarWriter
from central.calendar.schemas import CalendarCheck, CalendarYearIn, CalendarYearPublic
from central.calendar.service import CalendarConflictError, check_coverage, describe_year, import_year
from central.core.clock import shanghai_date
from central.core.deps import NowDep, SessionDep, SettingsDep

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/calendar", tags=["calendar"])


@router.get("/check", response_model=CalendarCheck)
def calendar_check(session: SessionDep, now: NowDep) -> CalendarCheck:
    return check_coverage(session, today=shanghai_date(now))


@router.get("/years/{year}", response_model=CalendarYearPublic)
def read_year(session: SessionDep, year: Annotated[int, Path(ge=1900, le=2200)]) -> CalendarYearPublic:
    found = describe_year(session, year=year)
    if found is None:
        raise HTTPException(404, f"the working-day calendar for {year} is missing")
    return found


@router.post(
    "/years",
    response_model=CalendarYearPublic,
    status_code=201,
    responses={
        403: {"description": "needs calendar.write with the deployment (*) or a province scope"},
        409: {"description": "an official year, or a year already entered (replace it via an approval)"},
    },
)
def post_year(
    entry: CalendarYearIn, session: SessionDep, settings: SettingsDep, now: NowDep, principal: CalendarWriter
) -> CalendarYearPublic:
    try:
        return import_year(
            session, entry=entry, default_key=settings.rule_profile, now=now, actor=principal.actor
        )
    except CalendarConflictError as exc:
        raise HTTPException(409, str(exc)) from exc
