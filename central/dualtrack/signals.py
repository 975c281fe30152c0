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

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from central.dualtrack.labels import SOURCE_LABELS
from central.dualtrack.models import DualTrackJudgement
from central.dualtrack.rule import Verdict
from central.signals.lifecycle import SignalStatus
from central.signals.models import Signal
from central.signals.reasons import REASONS, Origin
from central.signals.transitions import SIGNALS_ACTOR

logger = logging.getLogger(__name__)

REASON_CODE = "dual_track"
CHUNK = 500
_signals = cast(Table, Signal.__table__)


def dedupe_key(window_id: int, day: date) -> str:
    return f"dualtrack:{window_id}:{day.isoformat()}"


def judgement_path(judgement_id: int) -> str:
    return f"/console/dualtrack/judgements/{judgement_id}"


def reason_text(*, window_code: str, window_name: str, day: date, verdict: Verdict, hours: list[Any]) -> str:
    """zh-CN: the day, the counts, the baseline, the statistics and the hours beyond the expected."""
    base = verdict.baseline
    over = set(verdict.hours_over)
    by_hour = "、".join(
        f"{hour:02d}时 来访 {visits} / 办件 {cases}" for hour, visits, cases in hours if hour in over
    )
    return (
        f"{window_name}（{window_code}）{day.isoformat()}：摄像机计数来访 {verdict.visits} 人次，"
        f"同时段登记办件 {verdict.cases} 件，未登记 {verdict.excess} 人次；按{SOURCE_LABELS[base.source.value]}"
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
    judgement_id: int,
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
        "_judgement_id": judgement_id,  # removed before the insert
    }


def insert_signals(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the new ones (ON CONFLICT DO NOTHING) and link every judgement to its signal; returns
    how many were new. Rows in dedupe-key order: two instances take keys in one order (no deadlock)."""
    if not rows:
        return 0
    rows = sorted(rows, key=lambda row: str(row["dedupe_key"]))
    judgements = {row["dedupe_key"]: row.pop("_judgement_id") for row in rows}
    postgres = session.get_bind().dialect.name == "postgresql"
    dialect_insert = pg_insert if postgres else sqlite_insert
    issued = 0
    for start in range(0, len(rows), CHUNK):  # a statement's parameters are bounded (65,535 on PostgreSQL)
        statement = (
            dialect_insert(_signals)
            .values(rows[start : start + CHUNK])
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        result = cast(CursorResult[Any], session.execute(statement.execution_options(preserve_rowcount=True)))
        issued += max(result.rowcount, 0)
    keys = sorted(judgements)
    ids: dict[str | None, int] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        ids.update(
            session.execute(select(Signal.dedupe_key, Signal.id).where(Signal.dedupe_key.in_(chunk))).all()
        )
    links = [{"id": judgement_id, "signal_id": ids[key]} for key, judgement_id in judgements.items()]
    session.execute(update(DualTrackJudgement), links)  # by primary key, one executemany
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
