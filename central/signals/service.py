"""Signal writes by people: raising one by hand and moving one through its lifecycle (SZ-11..13).

Every change is audited one by one. Computed signals come from `central.signals.scheduler`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.roles import Permission
from central.audit.chain import record
from central.cases.models import Case
from central.cases.queries import case_clause
from central.core.actor import Actor
from central.core.clock import shanghai_date
from central.profiles.assignment import profile_for_hall
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department
from central.signals.lifecycle import (
    Finding,
    SignalAction,
    SignalStatus,
    SignalTransitionError,
    allowed_actions,
    next_status,
)
from central.signals.models import Signal, SignalEvent
from central.signals.reasons import REASONS, Color, Origin
from central.signals.schemas import SignalActionIn, SignalCreate
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)

ACTION_PERMISSION = {
    SignalAction.ACKNOWLEDGE: Permission.SIGNALS_RESPOND,
    SignalAction.CORRECT: Permission.SIGNALS_RESPOND,
    SignalAction.ESCALATE: Permission.SIGNALS_SUPERVISE,
    SignalAction.INVESTIGATE: Permission.SIGNALS_SUPERVISE,
    SignalAction.CLOSE: Permission.SIGNALS_SUPERVISE,
}


class SignalNotFound(LookupError):
    """No such signal, or not in the caller's jurisdiction (the same answer: do not leak)."""


class SignalInputError(ValueError):
    """The request names something that does not exist or does not fit (a 422)."""


class SignalForbidden(PermissionError):
    """The caller's role may not take this action (a 403)."""


def actions_for(principal: Principal, status: SignalStatus) -> list[SignalAction]:
    """What this person may do to a signal in this status (for pages and the API's hints)."""
    return [a for a in allowed_actions(status) if principal.may(ACTION_PERMISSION[a])]


def visible_signal(session: Session, *, signal_id: int, within: Jurisdiction) -> Signal:
    query = select(Signal).where(
        Signal.id == signal_id, within.clause(hall_id=Signal.hall_id, department_id=Signal.department_id)
    )
    signal = session.scalars(query).first()
    if signal is None:
        raise SignalNotFound(f"no signal #{signal_id}")
    return signal


def raise_signal(
    session: Session,
    *,
    body: SignalCreate,
    principal: Principal,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> Signal:
    """An inspector's signal with a reason and evidence; yellow ones carry their correction deadline."""
    case_id, hall_id, department_id = _subject(session, body=body, within=principal.jurisdiction)
    return issue_signal(
        session,
        reason_code=body.reason_code,
        origin=Origin.MANUAL,
        text=body.reason,
        evidence=body.evidence,
        case_id=case_id,
        hall_id=hall_id,
        department_id=department_id,
        actor=principal.actor,
        now=now,
        calendar=calendar,
        default_profile=default_profile,
    )


def issue_signal(
    session: Session,
    *,
    reason_code: str,
    origin: Origin,
    text: str | None,
    evidence: str | None,
    hall_id: int,
    department_id: int,
    actor: Actor,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
    case_id: int | None = None,
    dedupe_key: str | None = None,
    audit_extra: dict[str, object] | None = None,
) -> Signal:
    """Issue one signal (status issued; a yellow one with the profile's correction deadline) and
    audit it (`signal.raise`). With a `dedupe_key` already taken, the signal that holds it is
    returned and nothing is written: a decision confirmed twice raises one signal. Not committed."""
    if dedupe_key is not None:
        held = session.scalar(select(Signal).where(Signal.dedupe_key == dedupe_key))
        if held is not None:
            return held
    reason = REASONS[reason_code]
    profile = profile_for_hall(session, hall_id=hall_id, default_key=default_profile)
    today = shanghai_date(now)
    correct_by = (
        correction_deadline(calendar, today, profile.signals.yellow_correct_within_workdays)
        if reason.color is Color.YELLOW
        else None
    )
    signal = Signal(
        color=reason.color.value,
        initial_color=reason.color.value,
        origin=origin.value,
        reason_code=reason.code,
        reason=text,
        evidence=evidence,
        dedupe_key=dedupe_key,
        case_id=case_id,
        hall_id=hall_id,
        department_id=department_id,
        status=SignalStatus.ISSUED.value,
        issued_at=now,
        issued_on=today,
        issued_by=actor.label,
        correct_by=correct_by,
        updated_at=now,
    )
    session.add(signal)
    session.flush()
    record(
        session,
        actor=actor,
        action="signal.raise",
        target_type="signal",
        target_id=str(signal.id),
        after=_snapshot(signal)
        | {"origin": signal.origin, "reason": text, "evidence": evidence, "case_id": case_id}
        | (audit_extra or {}),
        at=now,
    )
    logger.info(
        "signal #%d (%s, %s, %s) raised by %s", signal.id, reason.color, reason.code, origin, actor.label
    )
    return signal


def correction_deadline(calendar: WorkCalendar, today: date, workdays: int) -> date | None:
    """The last working day to correct a yellow (SZ-11); None while the calendar lacks the year
    (the scheduler does the same: such a yellow turns red only by hand or through its case)."""
    try:
        return calendar.add_workdays(today, workdays)
    except CalendarMissingError as exc:
        logger.warning("no correction deadline after %s: calendar years %s missing", today, exc.years)
        return None


def _subject(session: Session, *, body: SignalCreate, within: Jurisdiction) -> tuple[int | None, int, int]:
    """(case id, hall id, department id) the signal is about, inside the caller's jurisdiction."""
    if body.case_no:
        case = session.scalars(select(Case).where(Case.case_no == body.case_no, case_clause(within))).first()
        if case is None:
            raise SignalInputError(f"no case {body.case_no!r} in your jurisdiction")
        if body.department_code:
            department = session.get(Department, case.department_id)
            if department is None or department.code != body.department_code:
                raise SignalInputError(f"case {body.case_no!r} does not belong to {body.department_code!r}")
        return case.id, case.hall_id, case.department_id
    department = session.scalars(select(Department).where(Department.code == body.department_code)).first()
    if department is None or not within.covers_case(hall_id=department.hall_id, department_id=department.id):
        raise SignalInputError(f"no department {body.department_code!r} in your jurisdiction")
    return None, department.hall_id, department.id


def act_on_signal(
    session: Session, *, signal_id: int, body: SignalActionIn, principal: Principal, now: datetime
) -> Signal:
    """Move a signal one step (acknowledge, correct, escalate, close), or raise why it cannot move."""
    signal = visible_signal(session, signal_id=signal_id, within=principal.jurisdiction)
    permission = ACTION_PERMISSION[body.action]
    if not principal.may(permission):
        raise SignalForbidden(f"your role ({principal.role.value}) may not {body.action.value} signals")
    current = SignalStatus(signal.status)
    if body.action is SignalAction.CLOSE and current is SignalStatus.INVESTIGATING:
        raise SignalTransitionError(
            "the signal is under investigation: it closes when the investigation reports"
        )
    target = next_status(current, body.action)
    move_signal(
        session,
        signal=signal,
        action=body.action,
        to=target,
        actor_label=principal.actor.label,
        note=body.note,
        now=now,
    )
    if body.action is SignalAction.ESCALATE:
        signal.color, signal.escalated_at = Color.RED.value, now
    if body.action is SignalAction.CLOSE:
        assert body.finding is not None  # the schema requires it with close
        close_with_finding(signal, finding=body.finding, now=now)
    before = {"status": current.value}
    record(
        session,
        actor=principal.actor,
        action=f"signal.{body.action.value}",
        target_type="signal",
        target_id=str(signal.id),
        before=before,
        after=_snapshot(signal) | {"note": body.note},
        at=now,
    )
    return signal


def move_signal(
    session: Session,
    *,
    signal: Signal,
    action: SignalAction,
    to: SignalStatus,
    actor_label: str,
    note: str | None,
    now: datetime,
) -> None:
    """Change the status and add the timeline step (the caller audits)."""
    session.add(
        SignalEvent(
            signal_id=signal.id,
            at=now,
            action=action.value,
            from_status=signal.status,
            to_status=to.value,
            actor=actor_label,
            note=note,
        )
    )
    signal.status, signal.updated_at = to.value, now
    session.flush()


def close_with_finding(signal: Signal, *, finding: Finding, now: datetime) -> None:
    signal.finding, signal.closed_at = finding.value, now


def _snapshot(signal: Signal) -> dict[str, object]:
    return {"status": signal.status, "color": signal.color, "finding": signal.finding}
