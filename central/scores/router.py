"""API of the published scores (issue 17 item 4, SZ-19): a day's ranking, the selection's trend and
dimensions, one subject's month explained line by line.

Every signed-in user reads the scores of the halls their jurisdiction includes (a department's post
user: their whole hall); another jurisdiction's hall, region or subject answers 404 like a missing one.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy.orm import Session

from central.access.deps import Principal, PrincipalDep
from central.core.clock import shanghai_date
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.scores.queries import (
    ScoreLookupError,
    Selection,
    last_scored_day,
    ranking,
    resolve_selection,
    schemes_of,
    selection_breakdown,
    selection_trend,
    unscored_halls,
)
from central.scores.schemas import (
    MonthQuery,
    PlaceQuery,
    RankingOut,
    RankingQuery,
    RankingRow,
    SubjectMonthOut,
    SummaryOut,
    SummaryQuery,
)
from central.scores.subject_queries import SUBJECT_CODE_PATTERN, default_month, find_subject, subject_month
from common.profiles.scoring import ScoreLevel

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/scores", tags=["scores"])

ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "no such hall, region or subject, or not in your jurisdiction"},
    422: {"description": "bad level, day, month, code or paging"},
}
SubjectCode = Annotated[
    str, Path(max_length=81, pattern=SUBJECT_CODE_PATTERN, description="A code; a window's: HALL:WINDOW.")
]


def _selection(session: Session, principal: Principal, query: PlaceQuery) -> Selection:
    try:
        return resolve_selection(
            session, within=principal.jurisdiction, hall_code=query.hall, region_code=query.region
        )
    except ScoreLookupError as exc:
        raise HTTPException(exc.status_code, exc.detail) from exc


@router.get("", response_model=RankingOut, responses=ERRORS)
def read_ranking(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    query: Annotated[RankingQuery, Query()],
) -> RankingOut:
    """The level's ranking on the day (default: the last day scored in the selection): rank, subject,
    department, month score, the day's points and the dimension scores; highest first."""
    if query.page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size is at most {settings.page_size_max}")
    selection = _selection(session, principal, query)
    day = query.day or last_scored_day(session, selection=selection)
    total, rows = 0, list[RankingRow]()
    if day is not None:
        total, rows = ranking(
            session,
            level=query.level,
            day=day,
            selection=selection,
            page=query.page,
            page_size=query.page_size,
        )
    return RankingOut(
        level=query.level,
        day=day,
        selection=selection.public(),
        schemes=schemes_of(rows),
        unscored_halls=unscored_halls(session, selection=selection, default_key=settings.rule_profile),
        total=total,
        page=query.page,
        page_size=query.page_size,
        rows=rows,
    )


@router.get("/summary", response_model=SummaryOut, responses=ERRORS)
def read_summary(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    query: Annotated[SummaryQuery, Query()],
) -> SummaryOut:
    """The selection's halls as a whole: their month score by day through the day, and the dimension
    breakdown of the day (averaged over the halls, per scoring scheme)."""
    selection = _selection(session, principal, query)
    day = query.day or last_scored_day(session, selection=selection)
    return SummaryOut(
        day=day,
        selection=selection.public(),
        trend=selection_trend(session, selection=selection, day=day) if day else [],
        breakdown=selection_breakdown(session, selection=selection, day=day) if day else [],
        unscored_halls=unscored_halls(session, selection=selection, default_key=settings.rule_profile),
    )


@router.get("/{level}/{code}", response_model=SubjectMonthOut, responses=ERRORS)
def read_subject(
    level: ScoreLevel,
    code: SubjectCode,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: PrincipalDep,
    query: Annotated[MonthQuery, Query()],
) -> SubjectMonthOut:
    """One subject's month (default: its last scored month): the month score by day, the dimensions,
    every current line with its rule, points, explanation and the console page of its record, and
    the earlier figures recomputations replaced, with their reason."""
    try:
        subject = find_subject(session, level=level, code=code, within=principal.jurisdiction)
    except ScoreLookupError as exc:
        raise HTTPException(exc.status_code, exc.detail) from exc
    month = query.month or default_month(session, subject=subject, today=shanghai_date(now))
    return subject_month(session, subject=subject, month=month, default_key=settings.rule_profile)


__all__ = ["router"]
