"""Investigation API: open one on a signal, list (overdue flagged), read, report with a finding."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query

from central.access.deps import CasesReader
from central.core.clock import shanghai_date
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.investigations.extension import KIND as EXTENSION_KIND
from central.investigations.queries import InvestigationFilters, get_investigation, list_investigations
from central.investigations.schemas import (
    InvestigationCreate,
    InvestigationPage,
    InvestigationPublic,
    InvestigationReport,
)
from central.investigations.service import (
    InvestigationConflict,
    InvestigationNotFound,
    open_investigation,
    report_investigation,
)
from central.signals.lifecycle import SignalTransitionError
from central.signals.service import SignalForbidden, SignalInputError, SignalNotFound

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/investigations", tags=["investigations"])
logger.debug("extensions go through the %s approval kind", EXTENSION_KIND)  # importing registers it
InvestigationId = Annotated[int, Path(ge=1, le=2**62)]


@router.post("", response_model=InvestigationPublic, status_code=201)
def open_(
    body: InvestigationCreate,
    principal: CasesReader,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> InvestigationPublic:
    """Pass a signal down for investigation (SC-9): the assignee reports within the profile's working days."""
    try:
        found = open_investigation(
            session,
            body=body,
            principal=principal,
            now=now,
            calendar=calendar,
            default_profile=settings.rule_profile,
        )
    except SignalNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except SignalForbidden as exc:
        raise HTTPException(403, str(exc)) from exc
    except SignalInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    except SignalTransitionError as exc:
        raise HTTPException(409, str(exc)) from exc
    session.commit()
    return get_investigation(
        session,
        investigation_id=found.id,
        within=principal.jurisdiction,
        today=shanghai_date(now),
        calendar=calendar,
    )


@router.get("", response_model=InvestigationPage)
def list_(
    principal: CasesReader,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    status: Literal["open", "reported"] | None = None,
    overdue: Annotated[bool, Query(description="Only open investigations past their due date.")] = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1)] = 50,
) -> InvestigationPage:
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size is at most {settings.page_size_max}")
    return list_investigations(
        session,
        within=principal.jurisdiction,
        filters=InvestigationFilters(status=status, overdue=overdue),
        today=shanghai_date(now),
        calendar=calendar,
        page=page,
        page_size=page_size,
    )


@router.get("/{investigation_id}", response_model=InvestigationPublic)
def one(
    investigation_id: InvestigationId,
    principal: CasesReader,
    session: SessionDep,
    calendar: CalendarDep,
    now: NowDep,
) -> InvestigationPublic:
    try:
        return get_investigation(
            session,
            investigation_id=investigation_id,
            within=principal.jurisdiction,
            today=shanghai_date(now),
            calendar=calendar,
        )
    except InvestigationNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post("/{investigation_id}/report", response_model=InvestigationPublic)
def report(
    investigation_id: InvestigationId,
    body: InvestigationReport,
    principal: CasesReader,
    session: SessionDep,
    calendar: CalendarDep,
    now: NowDep,
) -> InvestigationPublic:
    """The result, with a finding of fault or no fault; the signal closes with it (SZ-13)."""
    try:
        report_investigation(
            session, investigation_id=investigation_id, body=body, principal=principal, now=now
        )
    except InvestigationNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except SignalForbidden as exc:
        raise HTTPException(403, str(exc)) from exc
    except (InvestigationConflict, SignalTransitionError) as exc:
        raise HTTPException(409, str(exc)) from exc
    session.commit()
    return get_investigation(
        session,
        investigation_id=investigation_id,
        within=principal.jurisdiction,
        today=shanghai_date(now),
        calendar=calendar,
    )
