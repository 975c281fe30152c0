"""Reviewing a patrol's findings (issue 15 item 5; SC-7, SC-9): 待认定 → 已确认 or 不予认定.

Who reviews: the patrol's own inspector, or a supervisor (`signals.supervise`) whose jurisdiction
covers the finding's window (its department, or the whole hall for a window without one). Anyone
else with the right who cannot see the finding gets a 404, exactly like a missing one; a role
without the right (a post user, an administrator) a 403.

Confirming raises one yellow signal through `central.signals.service.issue_signal` (origin
`patrol`, reason `patrol_discipline`, or `patrol_attitude` for 服务态度; SC-6.1) on the window's hall
and department, so the finding follows the signal lifecycle and SC-9's investigation rules like any
other signal. Its `dedupe_key` is `patrol-finding:<id>`: confirming again answers the same finding and
signal. Dismissing needs a reason; a mistaken finding is never deleted. Both decisions are audited.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.models import User
from central.access.roles import Permission
from central.audit.chain import record
from central.core.clock import SHANGHAI
from central.patrols.findings_kinds import CATEGORY_LABELS, FINDING_STATUS_LABELS, FindingStatus
from central.patrols.models import PatrolFinding
from central.patrols.sessions import PatrolRefused
from central.registry.models import ServiceWindow
from central.signals.models import Signal
from central.signals.reasons import Origin
from central.signals.service import issue_signal
from central.video.capture import captured_evidence
from central.video.models import AbsenceEvent
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

MAX_NOTE = 500
# How far from the finding's moment an absence that does not contain it may still be its record:
# the edge declares an absence only once the seat was empty past the threshold and closes it when
# someone sits down, so an inspector's moment can fall just outside it (clocks, a quick return).
ABSENCE_SLACK = timedelta(minutes=5)


class ReviewRefused(PatrolRefused):
    """A refusal with a zh-CN message for the patrol page beside the API's English detail."""

    def __init__(self, status_code: int, detail: str, zh: str) -> None:
        super().__init__(status_code, detail)
        self.zh = zh


def signal_dedupe_key(finding_id: int) -> str:
    return f"patrol-finding:{finding_id}"


def may_review(principal: Principal, *, finding: PatrolFinding, department_id: int | None) -> bool:
    """The rule of the module docstring, for one finding whose window has `department_id`."""
    if not principal.may(Permission.SIGNALS_SUPERVISE):
        return False
    within = principal.jurisdiction
    if finding.inspector_id == principal.user_id and within.includes_hall(finding.hall_id):
        return True
    if department_id is None:
        return within.covers_hall(finding.hall_id)
    return within.covers_case(hall_id=finding.hall_id, department_id=department_id)


def reviewable_ids(session: Session, *, patrol_id: int, principal: Principal) -> set[int]:
    """The patrol's findings the principal may review (for the patrol page's buttons)."""
    rows = session.execute(
        select(PatrolFinding, ServiceWindow.department_id)
        .join(ServiceWindow, ServiceWindow.id == PatrolFinding.window_id)
        .where(PatrolFinding.session_id == patrol_id)
    )
    return {
        finding.id
        for finding, department_id in rows
        if may_review(principal, finding=finding, department_id=department_id)
    }


def reviewable_finding(
    session: Session, *, finding_id: int, principal: Principal, lock: bool = False
) -> tuple[PatrolFinding, ServiceWindow]:
    """The finding and its window, if the principal may review it (403 by role, else 404)."""
    if not principal.may(Permission.SIGNALS_SUPERVISE):
        raise ReviewRefused(
            403,
            f"your role ({principal.role.value}) may not review patrol findings",
            "您的角色无权认定巡查发现（须为电子监察员或系统监管员）。",
        )
    query = select(PatrolFinding).where(PatrolFinding.id == finding_id)
    finding = session.scalars(query.with_for_update() if lock else query).first()
    window = session.get(ServiceWindow, finding.window_id) if finding is not None else None
    if (
        finding is None
        or window is None
        or not may_review(principal, finding=finding, department_id=window.department_id)
    ):
        raise ReviewRefused(
            404, f"no patrol finding {finding_id}", f"没有编号为 #{finding_id} 的巡查发现，或不在您的辖区内。"
        )
    return finding, window


def _note(note: str | None, *, required: bool) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise ReviewRefused(
            422, f"the note is longer than {MAX_NOTE} characters", f"说明过长：最多 {MAX_NOTE} 个字。"
        )
    if required and not text:
        raise ReviewRefused(422, "dismissing a finding needs a reason (note)", "不予认定须填写理由。")
    return text or None


def _already(finding: PatrolFinding) -> ReviewRefused:
    label = FINDING_STATUS_LABELS.get(finding.status, finding.status)
    return ReviewRefused(
        409,
        f"patrol finding {finding.id} is already {finding.status}",
        f"巡查发现 #{finding.id} 已认定（{label}），不能再次认定。",
    )


def confirm_finding(
    session: Session,
    *,
    finding_id: int,
    principal: Principal,
    note: str | None,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> PatrolFinding:
    """已确认: link a 离岗 to the camera's absence, raise the signal, record the decision. Confirming
    a confirmed finding again changes nothing and answers it (one signal). Not committed."""
    finding, window = reviewable_finding(session, finding_id=finding_id, principal=principal, lock=True)
    if finding.status == FindingStatus.CONFIRMED:
        return finding
    if finding.status != FindingStatus.PENDING:
        raise _already(finding)
    text = _note(note, required=False)
    if window.department_id is None:
        # A signal is always placed at a department (it is that department's to correct, SZ-11).
        raise ReviewRefused(
            409,
            f"window {window.code} belongs to no department: a signal needs one",
            f"窗口 {window.code} 未关联部门，无法发出纠错信号。请先在登记信息中为该窗口指定部门，再确认。",
        )
    absence = matching_absence(session, finding=finding) if finding.category == "absent" else None
    finding.absence_id = absence.id if absence is not None else None
    signal = issue_signal(
        session,
        reason_code="patrol_attitude" if finding.category == "attitude" else "patrol_discipline",
        origin=Origin.PATROL,
        text=_signal_text(session, finding, window, text),
        evidence=_evidence_text(session, finding, absence),
        hall_id=finding.hall_id,
        department_id=window.department_id,
        actor=principal.actor,
        now=now,
        calendar=calendar,
        default_profile=default_profile,
        dedupe_key=signal_dedupe_key(finding.id),
        audit_extra={"patrol_finding": finding.id},
    )
    _decide(session, finding, FindingStatus.CONFIRMED, text, principal, now, signal=signal)
    logger.info("patrol finding %d confirmed by %s: signal %d", finding.id, principal.username, signal.id)
    return finding


def dismiss_finding(
    session: Session, *, finding_id: int, principal: Principal, note: str | None, now: datetime
) -> PatrolFinding:
    """不予认定, with the reason (the finding stays, in the ledger, with its status). Not committed."""
    finding, _window = reviewable_finding(session, finding_id=finding_id, principal=principal, lock=True)
    if finding.status != FindingStatus.PENDING:
        raise _already(finding)
    text = _note(note, required=True)
    _decide(session, finding, FindingStatus.DISMISSED, text, principal, now, signal=None)
    logger.info("patrol finding %d dismissed by %s", finding.id, principal.username)
    return finding


def matching_absence(session: Session, *, finding: PatrolFinding) -> AbsenceEvent | None:
    """The camera's absence record of the finding's window for the finding's moment.

    An absence whose interval contains the moment (an absence still open contains every later
    moment of its day); else the closest one within `ABSENCE_SLACK` before or after it, the
    distance being from the moment to the interval's nearer end; on a tie the later one. None when
    the camera recorded none: the finding stands on the inspector's own sight and its capture."""
    moment = finding.at
    day = moment.astimezone(SHANGHAI).date()
    nearby = session.scalars(
        select(AbsenceEvent)
        .where(
            AbsenceEvent.window_id == finding.window_id,
            AbsenceEvent.started_at <= moment + ABSENCE_SLACK,
            (AbsenceEvent.ended_at.is_(None)) | (AbsenceEvent.ended_at >= moment - ABSENCE_SLACK),
        )
        .order_by(AbsenceEvent.started_at.desc(), AbsenceEvent.id.desc())
    ).all()
    best: tuple[timedelta, AbsenceEvent] | None = None
    for absence in nearby:  # newest first: a tie keeps the later one
        if absence.ended_at is None and absence.started_at.astimezone(SHANGHAI).date() != day:
            continue  # an absence left open on another day (its agent went away) covers nothing now
        if absence.started_at > moment:
            gap = absence.started_at - moment
        elif absence.ended_at is not None and absence.ended_at < moment:
            gap = moment - absence.ended_at
        else:
            gap = timedelta(0)
        if gap <= ABSENCE_SLACK and (best is None or gap < best[0]):
            best = (gap, absence)
    return best[1] if best is not None else None


def _signal_text(session: Session, finding: PatrolFinding, window: ServiceWindow, note: str | None) -> str:
    inspector = session.get(User, finding.inspector_id)
    who = inspector.username if inspector is not None else f"#{finding.inspector_id}"
    category = CATEGORY_LABELS.get(finding.category, finding.category)
    text = (
        f"视频巡查（巡查 #{finding.session_id}，监察员 {who}）于 {finding.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S} "
        f"发现 {window.name}（{window.code}）{category}"
    )
    if finding.note:
        text += f"：{finding.note}"
    return f"{text}。认定说明：{note}" if note else f"{text}。"


def _evidence_text(session: Session, finding: PatrolFinding, absence: AbsenceEvent | None) -> str:
    parts = [f"巡查发现 #{finding.id}（类别 {CATEGORY_LABELS.get(finding.category, finding.category)}）"]
    arrived = captured_evidence(session, capture=finding.capture)
    if arrived:
        named = [
            f"{'视频片段' if evidence.media_type == 'video/webm' else '截图'} #{evidence.id}"
            for evidence in arrived
        ]
        parts.append("证据：" + "、".join(named) + "（须经审批查看，SC-18）")
    elif finding.camera:
        parts.append(f"截图与视频片段待边缘设备上传（摄像机 {finding.camera}，采集编号 {finding.capture}）")
    else:
        parts.append("该窗口无摄像机，无截图与视频片段")
    if absence is not None:
        parts.append(f"摄像机离岗记录 #{absence.id}")
    return "；".join(parts)


def _decide(
    session: Session,
    finding: PatrolFinding,
    status: FindingStatus,
    note: str | None,
    principal: Principal,
    now: datetime,
    *,
    signal: Signal | None,
) -> None:
    before = {"status": finding.status}
    finding.status, finding.review_note = status.value, note
    finding.reviewed_by, finding.reviewed_at = principal.actor.label, now
    finding.signal_id = signal.id if signal is not None else None
    session.flush()
    record(
        session,
        actor=principal.actor,
        action=f"patrol.finding.{'confirm' if status is FindingStatus.CONFIRMED else 'dismiss'}",
        target_type="patrol_finding",
        target_id=str(finding.id),
        before=before,
        after={
            "status": finding.status,
            "note": note,
            "signal_id": finding.signal_id,
            "absence_id": finding.absence_id,
        },
        at=now,
    )


__all__ = [
    "ABSENCE_SLACK",
    "ReviewRefused",
    "confirm_finding",
    "dismiss_finding",
    "matching_absence",
    "may_review",
    "reviewable_finding",
    "reviewable_ids",
    "signal_dedupe_key",
]
