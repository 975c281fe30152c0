"""Signal reads, always inside the caller's jurisdiction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, column, func, select, table
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.cases.models import Case
from central.registry.models import Department, Hall
from central.signals.lifecycle import Finding, SignalStatus, allowed_actions
from central.signals.models import Signal
from central.signals.reasons import REASONS, Color, Origin
from central.signals.schemas import SignalDetail, SignalEventPublic, SignalPage, SignalPublic
from central.signals.service import ACTION_PERMISSION, actions_for, visible_signal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignalFilters:
    status: SignalStatus | None = None
    color: Color | None = None
    origin: Origin | None = None
    needs_my_action: bool = False  # "my signals": those this person can move now
    case_no: str | None = None


def _actionable_statuses(principal: Principal) -> list[str]:
    return sorted(
        status.value
        for status in SignalStatus
        if any(principal.may(ACTION_PERMISSION[a]) for a in allowed_actions(status))
    )


def _filtered(query: Select[Signal], *, principal: Principal, filters: SignalFilters) -> Select[Signal]:
    query = query.where(
        principal.jurisdiction.clause(hall_id=Signal.hall_id, department_id=Signal.department_id)
    )
    if filters.status is not None:
        query = query.where(Signal.status == filters.status.value)
    if filters.color is not None:
        query = query.where(Signal.color == filters.color.value)
    if filters.origin is not None:
        query = query.where(Signal.origin == filters.origin.value)
    if filters.needs_my_action:
        query = query.where(Signal.status.in_(_actionable_statuses(principal)))
    if filters.case_no:
        query = query.where(Signal.case_id.in_(select(Case.id).where(Case.case_no == filters.case_no)))
    return query


def list_signals(
    session: Session, *, principal: Principal, filters: SignalFilters, page: int, page_size: int
) -> SignalPage:
    base = _filtered(select(Signal), principal=principal, filters=filters)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(
        base.order_by(Signal.issued_at.desc(), Signal.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = _public_rows(session, principal=principal, signals=list(rows))
    return SignalPage(total=total, page=page, page_size=page_size, items=items)


def get_signal(session: Session, *, signal_id: int, principal: Principal) -> SignalDetail:
    signal = visible_signal(session, signal_id=signal_id, within=principal.jurisdiction)
    public = _public_rows(session, principal=principal, signals=[signal])[0]
    events = [
        SignalEventPublic(
            at=e.at,
            action=e.action,
            from_status=SignalStatus(e.from_status),
            to_status=SignalStatus(e.to_status),
            actor=e.actor,
            note=e.note,
        )
        for e in signal.events
    ]
    return SignalDetail(**public.model_dump(), events=events)


# The investigation of each signal, read by table (`central.investigations.models.Investigation`
# links its signal): investigations sit above signals, so their model is not imported here.
_INVESTIGATIONS = table("investigations", column("id", Integer), column("signal_id", Integer))


def _public_rows(session: Session, *, principal: Principal, signals: list[Signal]) -> list[SignalPublic]:
    """Shape rows, loading case numbers, places and investigations in one query each."""
    case_ids = {s.case_id for s in signals if s.case_id is not None}
    case_nos = _pairs(session, select(Case.id, Case.case_no).where(Case.id.in_(case_ids))) if case_ids else {}
    halls = {h.id: h for h in session.scalars(select(Hall).where(Hall.id.in_({s.hall_id for s in signals})))}
    department_ids = {s.department_id for s in signals}
    departments = {
        d.id: d for d in session.scalars(select(Department).where(Department.id.in_(department_ids)))
    }
    ids = [s.id for s in signals]
    query = select(_INVESTIGATIONS.c.signal_id, _INVESTIGATIONS.c.id).where(
        _INVESTIGATIONS.c.signal_id.in_(ids)
    )
    investigations = _pairs(session, query) if ids else {}
    return [
        _public(
            signal,
            case_no=case_nos.get(signal.case_id) if signal.case_id else None,
            hall=halls[signal.hall_id],
            department=departments[signal.department_id],
            investigation_id=investigations.get(signal.id),
            principal=principal,
        )
        for signal in signals
    ]


def _pairs(session: Session, query: Select[Any, Any]) -> dict[Any, Any]:
    return {key: value for key, value in session.execute(query)}


def _public(
    signal: Signal,
    *,
    case_no: str | None,
    hall: Hall,
    department: Department,
    investigation_id: int | None,
    principal: Principal,
) -> SignalPublic:
    reason = REASONS.get(signal.reason_code)
    status = SignalStatus(signal.status)
    return SignalPublic(
        id=signal.id,
        color=Color(signal.color),
        initial_color=Color(signal.initial_color),
        origin=Origin(signal.origin),
        reason_code=signal.reason_code,
        reason_label=reason.label if reason else signal.reason_code,
        reason=signal.reason,
        evidence=signal.evidence,
        status=status,
        case_no=case_no,
        hall_code=hall.code,
        hall_name=hall.name,
        department_code=department.code,
        department_name=department.name,
        issued_at=signal.issued_at,
        issued_on=signal.issued_on,
        issued_by=signal.issued_by,
        correct_by=signal.correct_by,
        escalated_at=signal.escalated_at,
        closed_at=signal.closed_at,
        finding=Finding(signal.finding) if signal.finding else None,
        investigation_id=investigation_id,
        allowed_actions=actions_for(principal, status),
    )
