"""API routes of data supervision (数据监察, SC-6(2)) under /api/v1/anomalies: the hits of my
jurisdiction, the rules explained, a hit turned into a signal or dismissed. Thin: authorise, call
the service, shape. Refusals carry `message`, the zh-CN text the page shows."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from central.access.deps import PrincipalDep
from central.anomalies.explain import RULE_CODES
from central.anomalies.queries import list_hits, open_by_hall, rules_explained, visible_hit_public
from central.anomalies.review import dismiss_hit, signal_hit
from central.anomalies.schemas import (
    AnomalyError,
    HallCount,
    HitDismissIn,
    HitPage,
    HitPublic,
    HitSignalIn,
    HitStatus,
    ProfileRules,
)
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/anomalies", tags=["anomalies"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
RULE_PATTERN = "^(" + "|".join(RULE_CODES) + ")$"
REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "the role may not see or decide anomaly hits"},
    404: {"description": "no such hit in the caller's jurisdiction"},
    409: {"description": "already decided, or the hit has no department for a signal"},
}


def _refused(exc: AnomalyError) -> JSONResponse:
    return JSONResponse({"detail": exc.detail, "message": exc.zh}, status_code=exc.status_code)


@router.get("/hits", response_model=HitPage, responses=REFUSALS)
def hits(
    principal: PrincipalDep,
    session: SessionDep,
    rule: Annotated[str | None, Query(pattern=RULE_PATTERN)] = None,
    status: HitStatus | None = None,
    hall: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> HitPage | JSONResponse:
    """The rules' hits in my jurisdiction with their evidence, newest period first."""
    try:
        return list_hits(
            session,
            principal=principal,
            rule=rule,
            status=status,
            hall_code=hall,
            page=page,
            page_size=page_size,
        )
    except AnomalyError as exc:
        return _refused(exc)


@router.get("/hits/by-hall", response_model=list[HallCount], responses=REFUSALS)
def by_hall(principal: PrincipalDep, session: SessionDep) -> list[HallCount] | JSONResponse:
    """Open hits per hall and rule in my jurisdiction."""
    try:
        return open_by_hall(session, principal=principal)
    except AnomalyError as exc:
        return _refused(exc)


@router.get("/rules", response_model=list[ProfileRules], responses=REFUSALS)
def rules(
    principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> list[ProfileRules] | JSONResponse:
    """Each rule explained (zh-CN) with its profile's figures, for every profile my halls run under."""
    try:
        return rules_explained(session, principal=principal, default_profile=settings.rule_profile)
    except AnomalyError as exc:
        return _refused(exc)


@router.post("/hits/{hit_id}/signal", response_model=HitPublic, responses=REFUSALS)
def to_signal(
    hit_id: Id,
    body: HitSignalIn,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> HitPublic | JSONResponse:
    """转为纠错信号: origin data, reason data_anomaly unless another rule is cited."""
    try:
        hit = signal_hit(
            session,
            hit_id=hit_id,
            body=body,
            principal=principal,
            now=now,
            calendar=calendar,
            default_profile=settings.rule_profile,
        )
        session.commit()
        return visible_hit_public(session, hit_id=hit.id, principal=principal)
    except AnomalyError as exc:
        session.rollback()
        return _refused(exc)


@router.post("/hits/{hit_id}/dismiss", response_model=HitPublic, responses=REFUSALS)
def dismiss(
    hit_id: Id, body: HitDismissIn, principal: PrincipalDep, session: SessionDep, now: NowDep
) -> HitPublic | JSONResponse:
    """排除: the reason is required; the hit stays, dismissed, and is never reopened by a rerun."""
    try:
        hit = dismiss_hit(session, hit_id=hit_id, body=body, principal=principal, now=now)
        session.commit()
        return visible_hit_public(session, hit_id=hit.id, principal=principal)
    except AnomalyError as exc:
        session.rollback()
        return _refused(exc)
