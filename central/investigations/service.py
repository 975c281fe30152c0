"""Investigations (SC-9, SZ-13): assigned down with a deadline in working days, reported with a finding.

Opening one moves its signal to `investigating`; the report closes the signal with the same finding.
An extension (at most once, at most the profile's working days) goes through an approval
(`central.investigations.extension`).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.roles import Permission
from central.audit.chain import record
from central.core.actor import Actor
from central.core.clock import shanghai_date
from central.investigations.models import Investigation
from central.investigations.schemas import InvestigationCreate, InvestigationReport
from central.profiles.assignment import profile_for_hall
from central.registry.jurisdiction import (
    Jurisdiction,
    ScopeError,
    ScopeKind,
    jurisdiction_of,
    resolve_scope_code,
)
from central.signals.lifecycle import SignalAction, SignalStatus, next_status
from central.signals.service import (
    SignalForbidden,
    SignalInputError,
    close_with_finding,
    move_signal,
    visible_signal,
)
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)

OPEN = "open"
REPORTED = "reported"


class InvestigationNotFound(LookupError):
    """No such investigation in the caller's jurisdiction."""


class InvestigationConflict(ValueError):
    """The investigation's state does not allow this (a 409)."""


def visible_investigation(session: Session, *, investigation_id: int, within: Jurisdiction) -> Investigation:
    query = select(Investigation).where(
        Investigation.id == investigation_id,
        within.clause(hall_id=Investigation.hall_id, department_id=Investigation.department_id),
    )
    found = session.scalars(query).first()
    if found is None:
        raise InvestigationNotFound(f"no investigation #{investigation_id}")
    return found


def _assignee(
    session: Session, *, code: str, principal: Principal, hall_id: int, department_id: int | None
) -> Jurisdiction:
    try:
        kind, scope_id = resolve_scope_code(session, code)
    except ScopeError as exc:
        raise SignalInputError(str(exc)) from exc
    assignee = jurisdiction_of(session, kind=kind, scope_id=scope_id)
    if not principal.jurisdiction.contains(assignee):
        raise SignalInputError(
            f"{code!r} is not inside your jurisdiction: investigations are assigned downward"
        )
    covered = (
        assignee.covers_hall(hall_id)
        if department_id is None
        else assignee.covers_case(hall_id=hall_id, department_id=department_id)
    )
    if not covered:
        raise SignalInputError(f"{code!r} does not cover the hall and department the matter is about")
    return assignee


def new_investigation(
    session: Session,
    *,
    subject: str,
    assignee_scope: str,
    principal: Principal,
    hall_id: int,
    department_id: int | None,
    signal_id: int | None,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> Investigation:
    """An investigation of a matter in the caller's jurisdiction, passed down to `assignee_scope`
    with the hall profile's deadline (SC-9); flushed, not audited (the caller audits it with
    `audit_opened` once the rest of its change is made). Signals and complaints open theirs so."""
    assignee = _assignee(
        session, code=assignee_scope, principal=principal, hall_id=hall_id, department_id=department_id
    )
    profile = profile_for_hall(session, hall_id=hall_id, default_key=default_profile)
    today = shanghai_date(now)
    investigation = Investigation(
        signal_id=signal_id,
        subject=subject,
        assigned_by_id=principal.user_id,
        assignee_scope_kind=assignee.kind.value,
        assignee_scope_id=assignee.scope_id,
        assignee_scope_code=assignee.code,
        hall_id=hall_id,
        department_id=department_id,
        assigned_at=now,
        assigned_on=today,
        due_date=_deadline(calendar, today, profile.investigations.report_within_workdays),
        status=OPEN,
    )
    session.add(investigation)
    session.flush()
    return investigation


def audit_opened(session: Session, *, actor: Actor, investigation: Investigation, now: datetime) -> None:
    _audit(session, actor, "investigation.open", investigation, now=now)


def open_investigation(
    session: Session,
    *,
    body: InvestigationCreate,
    principal: Principal,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> Investigation:
    if not principal.may(Permission.SIGNALS_SUPERVISE):
        raise SignalForbidden(f"your role ({principal.role.value}) may not open investigations")
    signal = visible_signal(session, signal_id=body.signal_id, within=principal.jurisdiction)
    target = next_status(SignalStatus(signal.status), SignalAction.INVESTIGATE)
    investigation = new_investigation(
        session,
        subject=body.subject or f"信号 #{signal.id}：{signal.reason or signal.reason_code}",
        assignee_scope=body.assignee_scope,
        principal=principal,
        hall_id=signal.hall_id,
        department_id=signal.department_id,
        signal_id=signal.id,
        now=now,
        calendar=calendar,
        default_profile=default_profile,
    )
    note = f"交由 {investigation.assignee_scope_code} 调查，{investigation.due_date.isoformat()} 前报告结果"
    move_signal(
        session,
        signal=signal,
        action=SignalAction.INVESTIGATE,
        to=target,
        actor_label=principal.actor.label,
        note=note,
        now=now,
    )
    _audit(session, principal.actor, "investigation.open", investigation, now=now)
    return investigation


def report_investigation(
    session: Session, *, investigation_id: int, body: InvestigationReport, principal: Principal, now: datetime
) -> Investigation:
    """The assignee (or a bureau above it) reports; the signal closes with the finding."""
    if not principal.may(Permission.SIGNALS_SUPERVISE):
        raise SignalForbidden(f"your role ({principal.role.value}) may not report investigations")
    investigation = visible_investigation(
        session, investigation_id=investigation_id, within=principal.jurisdiction
    )
    assignee = jurisdiction_of(
        session, kind=ScopeKind(investigation.assignee_scope_kind), scope_id=investigation.assignee_scope_id
    )
    if not (principal.jurisdiction.contains(assignee) or assignee.contains(principal.jurisdiction)):
        raise SignalForbidden(f"investigation #{investigation.id} is assigned to {assignee.code}, not to you")
    if investigation.status != OPEN:
        raise InvestigationConflict(f"investigation #{investigation.id} already reported")
    investigation.status, investigation.report = REPORTED, body.report
    investigation.finding, investigation.reported_at = body.finding.value, now
    investigation.reported_by = principal.actor.label
    if investigation.signal is not None:
        signal = investigation.signal
        to = next_status(SignalStatus(signal.status), SignalAction.CLOSE)
        move_signal(
            session,
            signal=signal,
            action=SignalAction.CLOSE,
            to=to,
            actor_label=principal.actor.label,
            note=body.report,
            now=now,
        )
        close_with_finding(signal, finding=body.finding, now=now)
    _audit(session, principal.actor, "investigation.report", investigation, now=now)
    return investigation


def extend_investigation(
    session: Session,
    *,
    investigation: Investigation,
    days: int,
    calendar: WorkCalendar,
    actor: Actor,
    now: datetime,
) -> None:
    """Move the report deadline by `days` working days (called when an extension is approved)."""
    if investigation.status != OPEN:
        raise InvestigationConflict(f"investigation #{investigation.id} already reported; nothing to extend")
    before = investigation.due_date.isoformat()
    investigation.due_date = _deadline(calendar, investigation.due_date, days)
    investigation.extensions += 1
    investigation.extension_days += days
    session.flush()
    _audit(session, actor, "investigation.extend", investigation, now=now, before={"due_date": before})


def _deadline(calendar: WorkCalendar, start: date, workdays: int) -> date:
    try:
        return calendar.add_workdays(start, workdays)
    except CalendarMissingError as exc:
        years = ", ".join(str(y) for y in exc.years)
        raise InvestigationConflict(
            f"the working-day calendar for {years} is missing, so no deadline can be set; "
            "enter it first (hallwatch calendar import, or PUT /api/v1/calendar/years/…)"
        ) from exc


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    investigation: Investigation,
    *,
    now: datetime,
    before: object = None,
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        target_type="investigation",
        target_id=str(investigation.id),
        before=before,
        after={
            "signal_id": investigation.signal_id,
            "assignee": investigation.assignee_scope_code,
            "due_date": investigation.due_date.isoformat(),
            "status": investigation.status,
            "finding": investigation.finding,
            "extensions": investigation.extensions,
        },
        at=now,
    )
