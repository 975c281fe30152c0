"""An inspector's decision on a hit: turn it into a signal, or dismiss it with a reason (SC-6(2)).

Needs `signals.supervise`; a hit outside the caller's jurisdiction is not found, like a missing one.
A decided hit is final (409). The signal goes through `central.signals.service.issue_signal`: origin
`data`, reason `data_anomaly` (SC-6.2, yellow) unless the inspector cites a rule of SZ-11/SZ-12 the
hit shows; on the hit's case when it names one, else its department; `dedupe_key = anomaly:<id>`.
A hit without a department (a window nobody assigned) cannot become a signal until it has one.
Both decisions are audited; running the rules again never reopens a decided hit.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.roles import Permission
from central.anomalies.explain import LABELS, STATUS_LABELS
from central.anomalies.models import AnomalyHit
from central.anomalies.schemas import AnomalyError, HitDismissIn, HitSignalIn, HitStatus
from central.audit.chain import record
from central.signals.reasons import Origin
from central.signals.service import issue_signal
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)


def may_supervise(principal: Principal) -> None:
    if not principal.may(Permission.SIGNALS_SUPERVISE):
        raise AnomalyError(
            403,
            f"your role ({principal.role.value}) may not see or decide anomaly hits",
            "数据监察只向电子监察员和系统监管员开放。",
        )


def visible_hit(session: Session, *, hit_id: int, principal: Principal, lock: bool = False) -> AnomalyHit:
    may_supervise(principal)
    query = select(AnomalyHit).where(
        AnomalyHit.id == hit_id,
        principal.jurisdiction.clause(hall_id=AnomalyHit.hall_id, department_id=AnomalyHit.department_id),
    )
    hit = session.scalars(query.with_for_update() if lock else query).first()
    if hit is None:
        raise AnomalyError(
            404, f"no anomaly hit #{hit_id}", f"没有编号为 #{hit_id} 的异常线索，或不在您的辖区内。"
        )
    return hit


def _open(session: Session, *, hit_id: int, principal: Principal) -> AnomalyHit:
    hit = visible_hit(session, hit_id=hit_id, principal=principal, lock=True)
    if hit.status != HitStatus.OPEN.value:
        label = STATUS_LABELS.get(hit.status, hit.status)
        raise AnomalyError(
            409, f"anomaly hit #{hit_id} is already {hit.status}", f"该线索已处理（{label}），不能再次处理。"
        )
    return hit


def signal_hit(
    session: Session,
    *,
    hit_id: int,
    body: HitSignalIn,
    principal: Principal,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> AnomalyHit:
    """转为纠错信号 (the caller commits)."""
    hit = _open(session, hit_id=hit_id, principal=principal)
    if hit.department_id is None:
        raise AnomalyError(
            409,
            "the hit's window belongs to no department: a signal needs one",
            "该线索所涉窗口未关联部门，无法发出纠错信号。请先在登记信息中为该窗口指定部门。",
        )
    label = LABELS.get(hit.rule, hit.rule)
    text = f"数据监察发现：{label}。{hit.summary}"
    signal = issue_signal(
        session,
        reason_code=body.reason_code,
        origin=Origin.DATA,
        text=f"{text}。核实意见：{body.note}" if body.note else text,
        evidence=f"异常线索 #{hit.id}（{hit.day_from.isoformat()} 至 {hit.day_to.isoformat()}）："
        + json.dumps(hit.evidence, ensure_ascii=False, sort_keys=True)[:3000],
        case_id=hit.case_id,
        hall_id=hit.hall_id,
        department_id=hit.department_id,
        actor=principal.actor,
        now=now,
        calendar=calendar,
        default_profile=default_profile,
        dedupe_key=f"anomaly:{hit.id}",
        audit_extra={"anomaly_hit_id": hit.id, "rule": hit.rule},
    )
    _decide(session, hit, HitStatus.SIGNALLED, body.note, principal, now, signal_id=signal.id)
    return hit


def dismiss_hit(
    session: Session, *, hit_id: int, body: HitDismissIn, principal: Principal, now: datetime
) -> AnomalyHit:
    """排除, with the reason (the caller commits)."""
    hit = _open(session, hit_id=hit_id, principal=principal)
    _decide(session, hit, HitStatus.DISMISSED, body.note, principal, now, signal_id=None)
    return hit


def _decide(
    session: Session,
    hit: AnomalyHit,
    status: HitStatus,
    note: str | None,
    principal: Principal,
    now: datetime,
    *,
    signal_id: int | None,
) -> None:
    before = {"status": hit.status}
    hit.status, hit.signal_id, hit.decision_note = status.value, signal_id, note
    hit.decided_at, hit.decided_by = now, principal.actor.label
    session.flush()
    record(
        session,
        actor=principal.actor,
        action="anomaly.signal" if status is HitStatus.SIGNALLED else "anomaly.dismiss",
        target_type="anomaly_hit",
        target_id=str(hit.id),
        before=before,
        after={"status": hit.status, "rule": hit.rule, "note": note, "signal_id": signal_id},
        at=now,
    )
    logger.info("anomaly hit #%d (%s) %s by %s", hit.id, hit.rule, status.value, principal.username)
