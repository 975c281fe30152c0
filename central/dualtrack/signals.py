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

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.orm import Session

from central.dualtrack.bulk import insert_new
from central.dualtrack.labels import METHOD_LABELS, SOURCE_LABELS
from central.dualtrack.models import DualTrackJudgement
from central.dualtrack.rule import Method, Verdict
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


def insert_signals(
    session: Session, *, rows: list[dict[str, Any]], judgement_of: dict[str, int]
) -> tuple[int, dict[int, int]]:
    """Insert the new ones: one bulk ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING`` in dedupe-key
    order (central.dualtrack.bulk). Returns how many were new, and the signal of each judgement of
    `judgement_of` (dedupe key → judgement id), new or raised before: judgement id → signal id."""
    if not rows:
        return 0, {}
    rows = sorted(rows, key=lambda row: str(row["dedupe_key"]))
    inserted = insert_new(
        session,
        _signals,
        rows,
        conflict=["dedupe_key"],
        order_by=["dedupe_key"],
        returning=[_signals.c.dedupe_key, _signals.c.id],
    )
    signal_of = {str(key): int(signal_id) for key, signal_id in inserted}
    raised_before = [key for key in judgement_of if key not in signal_of]  # judged again, or elsewhere
    if raised_before:
        found = session.execute(
            select(Signal.dedupe_key, Signal.id).where(Signal.dedupe_key.in_(raised_before))
        ).tuples()
        signal_of.update({str(key): signal_id for key, signal_id in found})
    return len(inserted), {judgement_of[key]: sid for key, sid in signal_of.items() if key in judgement_of}


def link_signals(session: Session, signal_of_judgement: dict[int, int]) -> None:
    """Set the signal of judgements already stored (a day judged again): on PostgreSQL one UPDATE
    joined to two arrays, on SQLite an executemany by id. The daily judgement instead inserts its
    judgements after their signals, with the signal id set: updating 9,000 wide rows cost half a
    second on PostgreSQL."""
    if not signal_of_judgement:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "UPDATE dualtrack_judgements AS j SET signal_id = v.signal_id"
                " FROM unnest(CAST(:judgements AS bigint[]), CAST(:signals AS bigint[])) AS v(id, signal_id)"
                " WHERE j.id = v.id"
            ),
            {"judgements": list(signal_of_judgement), "signals": list(signal_of_judgement.values())},
        )
        return
    table = cast(Table, DualTrackJudgement.__table__)
    session.execute(
        update(table).where(table.c.id == bindparam("judgement")).values(signal_id=bindparam("signal")),
        [{"judgement": j, "signal": s} for j, s in signal_of_judgement.items()],
    )


__all__ = [
    "REASON_CODE",
    "dedupe_key",
    "evidence_text",
    "insert_signals",
    "judgement_path",
    "link_signals",
    "reason_text",
    "signal_row",
]
