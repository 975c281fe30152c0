"""Writing a day's judgements and the signals of the flagged ones (the daily judgement and the
re-judgement of late counts write the same rows)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from central.core.clock import shanghai_date
from central.dualtrack import counts
from central.dualtrack.bulk import insert_new
from central.dualtrack.models import DualTrackJudgement
from central.dualtrack.rule import Outcome, Verdict
from central.dualtrack.signals import (
    dedupe_key,
    evidence_text,
    insert_signals,
    reason_text,
    signal_row,
)
from central.signals.service import correction_deadline
from common.profiles.loader import get_profile
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)


def judgement_row(
    run_id: int,
    day: date,
    place: counts.WindowPlace,
    profile_key: str,
    verdict: Verdict,
    hours: list[list[Any]],
    evidence_ids: list[int],
    now: datetime,
) -> dict[str, Any]:
    base = verdict.baseline
    return {
        "run_id": run_id,
        "day": day,
        "window_id": place.id,
        "hall_id": place.hall_id,
        "department_id": place.department_id,
        "profile_key": profile_key,
        "outcome": verdict.outcome.value,
        "method": verdict.method.value,
        "visits": verdict.visits,
        "cases": verdict.cases,
        "excess": verdict.excess,
        "expected": verdict.expected,
        "baseline_share": base.share,
        "baseline_spread": base.spread,
        "baseline_source": base.source.value,
        "baseline_days": base.df + 1 if base.df is not None else 0,
        "z": verdict.z,
        "critical": verdict.critical,
        "z_rest": verdict.z_rest,
        "hours_counted": verdict.hours_counted,
        "hours": hours,
        "hours_over": verdict.hours_over,
        "why": verdict.why,
        "evidence_ids": evidence_ids,
        "signal_id": None,
        "computed_at": now,
    }


def insert_judgements(session: Session, rows: list[dict[str, Any]]) -> dict[int, int]:
    """window id → judgement id of the rows inserted (central.dualtrack.bulk)."""
    table = cast(Table, DualTrackJudgement.__table__)
    inserted = insert_new(
        session,
        table,
        rows,
        conflict=["window_id", "day"],
        order_by=["window_id"],
        returning=[table.c.window_id, table.c.id],
    )
    return {int(row[0]): int(row[1]) for row in inserted}


def raise_signals(
    session: Session,
    *,
    day: date,
    now: datetime,
    calendar: WorkCalendar,
    verdicts: dict[int, tuple[Verdict, list[list[Any]]]],
    places: dict[int, counts.WindowPlace],
    evidence: dict[int, list[int]],
    profile_keys: dict[int, str],
    ids: dict[int, int],
) -> tuple[int, dict[int, int]]:
    """Insert the signals of the flagged windows, naming their judgements by `ids` (window →
    judgement id, stored or drawn for an insert to come); returns how many were new and each
    flagged judgement's signal id (judgement id → signal id)."""
    flagged = [w for w, (v, _hours) in verdicts.items() if v.outcome is Outcome.FLAGGED and w in ids]
    today, rows = shanghai_date(now), []
    deadlines: dict[int, date | None] = {}
    judgement_of: dict[str, int] = {}  # dedupe key → judgement id
    for window_id in flagged:
        place, (verdict, hours) = places[window_id], verdicts[window_id]
        if place.department_id is None:
            logger.warning("window %s (#%d) has no department: no dual-track signal", place.code, window_id)
            continue
        workdays = get_profile(profile_keys[place.hall_id]).signals.yellow_correct_within_workdays
        if workdays not in deadlines:
            deadlines[workdays] = correction_deadline(calendar, today, workdays)
        rows.append(
            signal_row(
                window_id=window_id,
                hall_id=place.hall_id,
                department_id=place.department_id,
                day=day,
                reason=reason_text(
                    window_code=place.code, window_name=place.name, day=day, verdict=verdict, hours=hours
                ),
                evidence=evidence_text(ids[window_id], evidence.get(window_id, [])),
                correct_by=deadlines[workdays],
                today=today,
                now=now,
            )
        )
        judgement_of[dedupe_key(window_id, day)] = ids[window_id]
    return insert_signals(session, rows=rows, judgement_of=judgement_of)


__all__ = ["insert_judgements", "judgement_row", "raise_signals"]
