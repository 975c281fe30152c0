"""A flagged judgement raises one yellow signal "疑似体外循环" (reason `dual_track`, origin
`dual_track`), no case, placed at the window's department, with `dedupe_key =
'dualtrack:<window id>:<day>'` and the profile's correction deadline (SZ-11, like every yellow).

Inserted ``ON CONFLICT (dedupe_key) DO NOTHING``: a day judged again, or by two instances at once,
never raises a second signal. Like every computed signal it has no audit entry of its own; the day's
judgement (one audit entry with its counts) and the signal pass that ran it are audited. The signal
names its judgement, whose page shows the hours, the counts and the window's snapshots (SC-18: each
viewable only with an approved grant). A window without a department gets no signal (a signal needs
one): logged, and the judgement stays flagged without one.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import String, Table, literal, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from central.dualtrack.bulk import insert_new
from central.dualtrack.labels import METHOD_LABELS, SOURCE_LABELS
from central.dualtrack.models import DualTrackJudgement
from central.dualtrack.rule import Method, Outcome, Verdict
from central.signals.lifecycle import SignalStatus
from central.signals.models import Signal
from central.signals.reasons import REASONS, Origin
from central.signals.transitions import SIGNALS_ACTOR

logger = logging.getLogger(__name__)

REASON_CODE = "dual_track"
_signals = cast(Table, Signal.__table__)


def dedupe_key(window_id: int, day: date) -> str:
    return f"dualtrack:{window_id}:{day.isoformat()}"


def judgement_path(judgement_id: int) -> str:
    return f"/console/dualtrack/judgements/{judgement_id}"


def reason_text(*, window_code: str, window_name: str, day: date, verdict: Verdict, hours: list[Any]) -> str:
    """zh-CN: the day, the counts, the baseline, the statistics and the hours beyond the expected."""
    base, labels = verdict.baseline, METHOD_LABELS[verdict.method.value]
    over = set(verdict.hours_over)
    by_hour = "、".join(
        f"{hour:02d}时 {labels['visits']} {visits} / {labels['cases']} {cases}"
        for hour, visits, cases in hours
        if hour in over
    )
    if verdict.method is Method.VISITS:
        counted = (
            f"摄像机记录办理时长来访 {verdict.visits} 人次，其中在场时段有办件登记的 {verdict.cases} 人次，"
            f"无任何登记 {verdict.excess} 人次"
        )
    else:
        counted = f"摄像机计数来访 {verdict.visits} 人次，同时段登记办件 {verdict.cases} 件，未登记 {verdict.excess} 人次"
    return (
        f"{window_name}（{window_code}）{day.isoformat()}：{counted}；按{SOURCE_LABELS[base.source.value]}"
        f" {base.share:.1%} 应约 {verdict.expected:.0f} 人次，超出 {verdict.beyond:.0f} 人次"
        f"（z = {verdict.z or 0:.2f}，临界值 {verdict.critical or 0:.2f}），"
        f"持续 {len(over)} 个小时。超出时段：{by_hour}。疑似体外循环，请核实。"
    )


def evidence_text(judgement_id: int, evidence_ids: list[int]) -> str:
    snapshots = (
        "证据快照 " + "、".join(f"#{i}" for i in evidence_ids) + "（查看须经本级监察机关审批，SC-18）"
        if evidence_ids
        else "这些时段没有该窗口的证据快照"
    )
    return f"双轨运行研判 #{judgement_id}（{judgement_path(judgement_id)}）；{snapshots}"


def signal_row(
    *,
    window_id: int,
    hall_id: int,
    department_id: int,
    day: date,
    reason: str,
    evidence: str,
    correct_by: date | None,
    today: date,
    now: datetime,
) -> dict[str, Any]:
    color = REASONS[REASON_CODE].color.value
    return {
        "color": color,
        "initial_color": color,
        "origin": Origin.DUAL_TRACK.value,
        "reason_code": REASON_CODE,
        "reason": reason,
        "evidence": evidence,
        "dedupe_key": dedupe_key(window_id, day),
        "case_id": None,
        "hall_id": hall_id,
        "department_id": department_id,
        "status": SignalStatus.ISSUED.value,
        "issued_at": now,
        "issued_on": today,
        "issued_by": SIGNALS_ACTOR.label,
        "correct_by": correct_by,
        "updated_at": now,
    }


def insert_signals(session: Session, *, day: date, rows: list[dict[str, Any]]) -> int:
    """Insert the new ones and link each of the day's flagged judgements to its signal; returns how
    many were new: one bulk ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING`` in dedupe-key order
    (central.dualtrack.bulk), then one UPDATE."""
    if not rows:
        return 0
    rows = sorted(rows, key=lambda row: str(row["dedupe_key"]))
    inserted = insert_new(
        session, _signals, rows, conflict=["dedupe_key"], order_by=["dedupe_key"], returning=[_signals.c.id]
    )
    issued = len(inserted)
    j = DualTrackJudgement
    key = literal("dualtrack:") + sql_cast(j.window_id, String) + literal(f":{day.isoformat()}")
    session.execute(
        update(j)
        .where(j.day == day, j.outcome == Outcome.FLAGGED.value)
        .values(signal_id=select(Signal.id).where(Signal.dedupe_key == key).scalar_subquery())
    )
    return issued


__all__ = [
    "REASON_CODE",
    "dedupe_key",
    "evidence_text",
    "insert_signals",
    "judgement_path",
    "reason_text",
    "signal_row",
]
