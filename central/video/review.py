"""An inspector's review of an absence (离岗): 待核实 → 已确认 (raises a signal) or 已排除 (with a reason).

Needs `signals.supervise`; an absence outside the reviewer's jurisdiction is not found, exactly like
a missing one. Confirming raises one yellow signal (reason `staff_absent`, SZ-11 "other minor
violations" seen on video, SC-6.1), origin `video`, no case, placed at the window's department, with
the profile's correction deadline; `dedupe_key = 'absence:<id>'` makes a second signal for the same
absence impossible. The signal is the absence's ledger entry (台帐, SC-7: the ledger lists signals),
so the absence needs no ledger source of its own. Both decisions are audited.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.roles import Permission
from central.audit.chain import record
from central.core.clock import SHANGHAI, shanghai_date
from central.profiles.assignment import profile_for_hall
from central.registry.models import ServiceWindow, Staff
from central.signals.lifecycle import SignalStatus
from central.signals.models import Signal
from central.signals.reasons import REASONS, Origin
from central.signals.service import correction_deadline
from central.video.errors import VideoError
from central.video.labels import ABSENCE_STATUS_LABELS, AbsenceStatus
from central.video.models import AbsenceEvent
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

REASON_CODE = "staff_absent"
MAX_NOTE = 2000


def absence_not_found(absence_id: int) -> VideoError:
    return VideoError(
        404, f"no absence #{absence_id}", f"没有编号为 #{absence_id} 的离岗事件，或不在您的辖区内。"
    )


def visible_absence(
    session: Session, *, absence_id: int, principal: Principal, lock: bool = False
) -> AbsenceEvent:
    query = select(AbsenceEvent).where(
        AbsenceEvent.id == absence_id,
        principal.jurisdiction.clause(hall_id=AbsenceEvent.hall_id, department_id=AbsenceEvent.department_id),
    )
    absence = session.scalars(query.with_for_update() if lock else query).first()
    if absence is None:
        raise absence_not_found(absence_id)
    return absence


def _reviewable(session: Session, *, absence_id: int, principal: Principal) -> AbsenceEvent:
    if not principal.may(Permission.SIGNALS_SUPERVISE):
        raise VideoError(
            403,
            f"your role ({principal.role.value}) may not review absences",
            "您的角色无权核实离岗事件（须为电子监察员或系统监管员）。",
        )
    absence = visible_absence(session, absence_id=absence_id, principal=principal, lock=True)
    if absence.status != AbsenceStatus.PENDING.value:
        label = ABSENCE_STATUS_LABELS.get(absence.status, absence.status)
        raise VideoError(
            409,
            f"absence #{absence_id} is already {absence.status}",
            f"离岗事件 #{absence_id} 已核实（{label}），不能再次核实。",
        )
    return absence


def _note(note: str | None, *, required: bool) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise VideoError(
            422, f"the note is longer than {MAX_NOTE} characters", f"说明过长：最多 {MAX_NOTE} 个字符。"
        )
    if required and not text:
        raise VideoError(422, "dismissing an absence needs a reason (note)", "排除离岗事件须填写理由。")
    return text or None


def confirm_absence(
    session: Session,
    *,
    absence_id: int,
    principal: Principal,
    note: str | None,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> AbsenceEvent:
    """已确认: raise the absence's signal and record the decision (the caller commits)."""
    absence = _reviewable(session, absence_id=absence_id, principal=principal)
    text = _note(note, required=False)
    window = session.get(ServiceWindow, absence.window_id)
    assert window is not None  # a foreign key
    department_id = _department(session, absence, window)
    signal = _raise_signal(
        session,
        absence=absence,
        window=window,
        department_id=department_id,
        note=text,
        principal=principal,
        now=now,
        calendar=calendar,
        default_profile=default_profile,
    )
    _decide(session, absence, AbsenceStatus.CONFIRMED, text, principal, now, signal_id=signal.id)
    logger.info("absence #%d confirmed by %s: signal #%d", absence.id, principal.username, signal.id)
    return absence


def dismiss_absence(
    session: Session, *, absence_id: int, principal: Principal, note: str | None, now: datetime
) -> AbsenceEvent:
    """已排除, with the reason (e.g. an approved errand, a camera misjudging the seat)."""
    absence = _reviewable(session, absence_id=absence_id, principal=principal)
    text = _note(note, required=True)
    _decide(session, absence, AbsenceStatus.DISMISSED, text, principal, now, signal_id=None)
    logger.info("absence #%d dismissed by %s", absence.id, principal.username)
    return absence


def _department(session: Session, absence: AbsenceEvent, window: ServiceWindow) -> int:
    """The absence's department, else the window's now, else that of the staff posted there."""
    found = absence.department_id or window.department_id
    if found is None:
        found = session.scalar(
            select(Staff.department_id)
            .where(Staff.window_id == window.id, Staff.active)
            .order_by(Staff.id)
            .limit(1)
        )
    if found is None:
        raise VideoError(
            409,
            f"window {window.code} belongs to no department: a signal needs one",
            f"窗口 {window.code} 未关联部门，无法发出纠错信号。请先在登记信息中为该窗口指定部门。",
        )
    return found


def _raise_signal(
    session: Session,
    *,
    absence: AbsenceEvent,
    window: ServiceWindow,
    department_id: int,
    note: str | None,
    principal: Principal,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> Signal:
    reason = REASONS[REASON_CODE]
    profile = profile_for_hall(session, hall_id=absence.hall_id, default_key=default_profile)
    today = shanghai_date(now)
    signal = Signal(
        color=reason.color.value,
        initial_color=reason.color.value,
        origin=Origin.VIDEO.value,
        reason_code=reason.code,
        reason=_signal_text(absence, window, note),
        evidence=f"离岗事件 #{absence.id}（摄像机 {absence.camera}）；证据快照须经审批查看（SC-18）",
        dedupe_key=f"absence:{absence.id}",
        case_id=None,
        hall_id=absence.hall_id,
        department_id=department_id,
        status=SignalStatus.ISSUED.value,
        issued_at=now,
        issued_on=today,
        issued_by=principal.actor.label,
        correct_by=correction_deadline(calendar, today, profile.signals.yellow_correct_within_workdays),
        updated_at=now,
    )
    session.add(signal)
    session.flush()
    record(
        session,
        actor=principal.actor,
        action="signal.raise",
        target_type="signal",
        target_id=str(signal.id),
        after={
            "status": signal.status,
            "color": signal.color,
            "origin": signal.origin,
            "absence_id": absence.id,
        },
        at=now,
    )
    return signal


def _signal_text(absence: AbsenceEvent, window: ServiceWindow, note: str | None) -> str:
    start = absence.started_at.astimezone(SHANGHAI)
    if absence.ended_at is None:
        span = f"{start:%Y-%m-%d %H:%M} 起离岗（尚未回到岗位）"
    else:
        minutes = round((absence.ended_at - absence.started_at).total_seconds() / 60)
        span = f"{start:%Y-%m-%d %H:%M}–{absence.ended_at.astimezone(SHANGHAI):%H:%M} 离岗约 {minutes} 分钟"
    text = f"{window.name}（{window.code}）工作时间 {span}，经视频核实（离岗事件 #{absence.id}）"
    return f"{text}。核实说明：{note}" if note else text


def _decide(
    session: Session,
    absence: AbsenceEvent,
    status: AbsenceStatus,
    note: str | None,
    principal: Principal,
    now: datetime,
    *,
    signal_id: int | None,
) -> None:
    before = {"status": absence.status}
    absence.status, absence.review_note, absence.signal_id = status.value, note, signal_id
    absence.reviewed_at, absence.reviewed_by, absence.updated_at = now, principal.actor.label, now
    session.flush()
    record(
        session,
        actor=principal.actor,
        action=f"video.absence.{'confirm' if status is AbsenceStatus.CONFIRMED else 'dismiss'}",
        target_type="absence",
        target_id=str(absence.id),
        before=before,
        after={"status": absence.status, "note": note, "signal_id": signal_id},
        at=now,
    )


__all__ = ["REASON_CODE", "confirm_absence", "dismiss_absence", "visible_absence"]
