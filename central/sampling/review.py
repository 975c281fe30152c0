"""Reviewing a sampled case: 合规, or 不合规 with the rule cited, which raises a signal (SC-6(4)).

Only the reviewer the draw dealt the case to may review it (a 403 for anyone else who can see it;
a 404, like a missing one, for whoever cannot). A review is final: a second one is refused (409).
不合规 raises one signal through `central.signals.service.issue_signal` with the cited rule as its
reason (so its colour and score are that rule's: SZ-11 yellow, SZ-12 red), origin `sampling`, on the
case; `dedupe_key = sample:<id>`. Every review is audited.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.roles import Permission
from central.audit.chain import record
from central.sampling.models import SampleCase, SampleDraw
from central.sampling.schemas import FINDING_LABELS, Finding, ReviewIn, SamplingError
from central.signals.reasons import REASONS, Origin
from central.signals.service import issue_signal
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)


def may_sample(principal: Principal) -> None:
    if not principal.may(Permission.SIGNALS_SUPERVISE):
        raise SamplingError(
            403,
            f"your role ({principal.role.value}) may not see or review samples",
            "抽样监察只向电子监察员和系统监管员开放。",
        )


def visible_sample_case(session: Session, *, sample_case_id: int, principal: Principal) -> SampleCase:
    may_sample(principal)
    query = select(SampleCase).where(
        SampleCase.id == sample_case_id,
        principal.jurisdiction.clause(hall_id=SampleCase.hall_id, department_id=SampleCase.department_id),
    )
    found = session.scalars(query.with_for_update()).first()
    if found is None:
        raise SamplingError(
            404,
            f"no sampled case #{sample_case_id}",
            f"没有编号为 #{sample_case_id} 的抽样办件，或不在您的辖区内。",
        )
    return found


def review_case(
    session: Session,
    *,
    sample_case_id: int,
    body: ReviewIn,
    principal: Principal,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> SampleCase:
    """Record the finding (the caller commits); 不合规 raises the signal."""
    sampled = visible_sample_case(session, sample_case_id=sample_case_id, principal=principal)
    if sampled.reviewer_id != principal.user_id:
        raise SamplingError(
            403,
            f"sampled case #{sampled.id} was dealt to another reviewer",
            "该办件由抽样分配给了其他复核人，复核人不能自选办件。",
        )
    if sampled.finding is not None:
        label = FINDING_LABELS[Finding(sampled.finding)]
        raise SamplingError(
            409,
            f"sampled case #{sampled.id} was already reviewed",
            f"该办件已复核（{label}），不能再次复核。",
        )
    draw = session.get(SampleDraw, sampled.draw_id)
    assert draw is not None  # a foreign key
    signal_id = None
    if body.finding is Finding.NONCOMPLIANT:
        assert body.reason_code is not None  # the schema requires it
        reason = REASONS[body.reason_code]
        signal = issue_signal(
            session,
            reason_code=reason.code,
            origin=Origin.SAMPLING,
            text=_signal_text(sampled, draw, reason.label, reason.rule, body.note),
            evidence=f"抽样监察：抽样 #{draw.id}（{draw.month}，{draw.scope_code}）第 {sampled.position} 件",
            case_id=sampled.case_id,
            hall_id=sampled.hall_id,
            department_id=sampled.department_id,
            actor=principal.actor,
            now=now,
            calendar=calendar,
            default_profile=default_profile,
            dedupe_key=f"sample:{sampled.id}",
            audit_extra={"sample_case_id": sampled.id, "draw_id": draw.id},
        )
        signal_id = signal.id
    sampled.finding, sampled.reason_code, sampled.note = body.finding.value, body.reason_code, body.note
    sampled.reviewed_at, sampled.signal_id = now, signal_id
    session.flush()
    record(
        session,
        actor=principal.actor,
        action="sampling.review",
        target_type="sample_case",
        target_id=str(sampled.id),
        before={"finding": None},
        after={
            "draw_id": draw.id,
            "case_no": sampled.case_no,
            "finding": body.finding.value,
            "reason_code": body.reason_code,
            "note": body.note,
            "signal_id": signal_id,
        },
        at=now,
    )
    logger.info(
        "sampled case #%d (%s) reviewed %s by %s",
        sampled.id,
        sampled.case_no,
        body.finding,
        principal.username,
    )
    return sampled


def _signal_text(sampled: SampleCase, draw: SampleDraw, label: str, rule: str, note: str | None) -> str:
    text = f"抽样复核认定办件 {sampled.case_no} 不合规：{label}（{rule}）"
    return f"{text}。复核意见：{note}" if note else text
