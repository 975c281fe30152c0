"""Dual-track API: the daily judgements of one's jurisdiction, and one judgement with its hours and
evidence references (never the images: those need an approved grant, SC-18). Thin: parse, authorise,
query. Reading needs a part in supervision (`signals.supervise` or `signals.respond`)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from central.access.deps import Principal, PrincipalDep
from central.access.refusals import audit_refusal
from central.access.roles import Permission
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.core.types import Day
from central.dualtrack.models import DualTrackJudgement
from central.dualtrack.queries import JudgementFilters, get_judgement, list_judgements
from central.dualtrack.rule import Outcome
from central.dualtrack.schemas import JudgementOut, JudgementPage

logger = logging.getLogger(__name__)
router = APIRouter(tags=["dualtrack"])

ItemId = Annotated[int, Path(ge=1, le=2**62)]
Code = Annotated[str | None, Query(min_length=1, max_length=40)]


def dualtrack_reader(principal: PrincipalDep) -> Principal:
    if not (principal.may(Permission.SIGNALS_SUPERVISE) or principal.may(Permission.SIGNALS_RESPOND)):
        raise HTTPException(403, f"your role ({principal.role.value}) may not read dual-track judgements")
    return principal


Reader = Annotated[Principal, Depends(dualtrack_reader)]


@router.get("/dualtrack/judgements", response_model=JudgementPage)
def judgements(
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    day: Day | None = None,
    hall: Code = None,
    window: Code = None,
    outcome: Outcome | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1)] = 50,
) -> JudgementPage:
    """Per window and day: visitors counted, cases recorded, the verdict (双轨运行研判)."""
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size is at most {settings.page_size_max}")
    filters = JudgementFilters(
        within=principal.jurisdiction, day=day, hall_code=hall, window_code=window, outcome=outcome
    )
    return list_judgements(session, filters=filters, page=page, page_size=page_size, now=now)


@router.get("/dualtrack/judgements/{judgement_id}", response_model=JudgementOut)
def judgement(
    request: Request, judgement_id: ItemId, principal: Reader, session: SessionDep, now: NowDep
) -> JudgementOut:
    found = get_judgement(session, judgement_id=judgement_id, within=principal.jurisdiction, now=now)
    if found is None:
        if session.get(DualTrackJudgement, judgement_id) is not None:  # the same 404, the probe audited
            audit_refusal(request, action="refused.out_of_jurisdiction", detail=f"judgement {judgement_id}")
        raise HTTPException(404, f"no dual-track judgement #{judgement_id}")
    return found


__all__ = ["router"]
