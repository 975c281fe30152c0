"""Signal API: raise by hand, list ("my signals"), one signal with its timeline, lifecycle actions."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from central.access.deps import CasesReader, Principal, require
from central.access.refusals import audit_refusal
from central.access.roles import Permission
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.signals.lifecycle import SignalStatus, SignalTransitionError
from central.signals.models import Signal
from central.signals.queries import SignalFilters, get_signal, list_signals
from central.signals.reasons import REASONS, Color, Origin
from central.signals.schemas import ReasonPublic, SignalActionIn, SignalCreate, SignalDetail, SignalPage
from central.signals.service import (
    SignalForbidden,
    SignalInputError,
    SignalNotFound,
    act_on_signal,
    raise_signal,
)

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/signals", tags=["signals"])
Supervisor = Annotated[Principal, Depends(require(Permission.SIGNALS_SUPERVISE))]
SignalId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/reasons", response_model=list[ReasonPublic])
def reasons(_principal: CasesReader) -> list[ReasonPublic]:
    """The reason codes: SZ-10 (green), SZ-11 (yellow, turns red if not corrected), SZ-12 (red)."""
    return [ReasonPublic(**vars(r) | {"color": r.color}) for r in REASONS.values()]


@router.post("", response_model=SignalDetail, status_code=201)
def raise_by_hand(
    body: SignalCreate,
    principal: Supervisor,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> SignalDetail:
    try:
        signal = raise_signal(
            session,
            body=body,
            principal=principal,
            now=now,
            calendar=calendar,
            default_profile=settings.rule_profile,
        )
    except SignalInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    session.commit()
    return get_signal(session, signal_id=signal.id, principal=principal)


@router.get("", response_model=SignalPage)
def list_(
    principal: CasesReader,
    session: SessionDep,
    settings: SettingsDep,
    status: SignalStatus | None = None,
    color: Color | None = None,
    origin: Origin | None = None,
    mine: Annotated[bool, Query(description="Only signals I can act on now (my signals).")] = False,
    case_no: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1)] = 50,
) -> SignalPage:
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size is at most {settings.page_size_max}")
    filters = SignalFilters(status=status, color=color, origin=origin, needs_my_action=mine, case_no=case_no)
    return list_signals(session, principal=principal, filters=filters, page=page, page_size=page_size)


@router.get("/{signal_id}", response_model=SignalDetail)
def one(request: Request, signal_id: SignalId, principal: CasesReader, session: SessionDep) -> SignalDetail:
    try:
        return get_signal(session, signal_id=signal_id, principal=principal)
    except SignalNotFound as exc:
        if session.get(Signal, signal_id) is not None:  # the same 404, but the probe is audited
            audit_refusal(request, action="refused.out_of_jurisdiction", detail=f"signal {signal_id}")
        raise HTTPException(404, str(exc)) from exc


@router.post("/{signal_id}/actions", response_model=SignalDetail)
def act(
    signal_id: SignalId, body: SignalActionIn, principal: CasesReader, session: SessionDep, now: NowDep
) -> SignalDetail:
    """acknowledge / correct (the department), escalate / close with a finding (inspectors)."""
    try:
        act_on_signal(session, signal_id=signal_id, body=body, principal=principal, now=now)
    except SignalNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except SignalForbidden as exc:
        raise HTTPException(403, str(exc)) from exc
    except SignalTransitionError as exc:
        raise HTTPException(409, str(exc)) from exc
    session.commit()
    return get_signal(session, signal_id=signal_id, principal=principal)
