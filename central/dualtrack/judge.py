"""The daily dual-track judgement: every window with a camera count, each finished day once.

**Once per day, on any number of instances.** A day is claimed by inserting its `DualTrackRun` row
(unique day, ``ON CONFLICT DO NOTHING RETURNING``) in the same transaction as its judgements and
signals: a second instance claiming the same day waits for the first to commit and then finds it
taken, so it skips the day (SQLite has one writer at a time and finds the row). Judgements are
unique per (window, day) and signals per dedupe key besides, so nothing is ever doubled. Nothing
here commits: the signal pass (or the CLI) that called it does, or rolls everything back.

**Which days.** A day is judged once it has ended and the default profile's
`dualtrack.judge_delay_minutes` have passed (uploads after an agent's reconnect). The first run of a
deployment judges yesterday; later runs go on from the last judged day, catching up at most
`MAX_CATCH_UP` days, in order: each day's baseline reads the judgements of the days before it.

**As a signal source.** `DUALTRACK_SIGNAL_SOURCES` is what the signal pass (`run_signals`) gets from
its callers beside ratings' source: the judgement runs in the pass's transaction and its new signals
are counted in the pass's audited counts under `dual_track`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.core.actor import Actor
from central.core.clock import shanghai_date
from central.dualtrack import counts
from central.dualtrack.bulk import insert_new
from central.dualtrack.matching import visit_hours
from central.dualtrack.models import DualTrackJudgement, DualTrackRun
from central.dualtrack.rule import History, HourCount, Method, Outcome, Verdict, judge
from central.dualtrack.signals import evidence_text, insert_signals, reason_text, signal_row
from central.jobs.runner import instance_name
from central.profiles.assignment import hall_profile_keys
from central.signals.scheduler import SignalSource
from central.signals.service import correction_deadline
from common.profiles.dualtrack import DualTrackRules
from common.profiles.loader import get_profile
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

DUALTRACK_ACTOR = Actor(kind="system", name="dualtrack")
DUAL_TRACK = "dual_track"  # the name the signal pass counts this source's signals under
MAX_CATCH_UP = 31
EVIDENCE_LIMIT = 6  # snapshots a judgement links


@dataclass
class DayReport:
    day: date
    judged: bool  # False: another instance (or an earlier run) had judged it
    windows: int = 0
    flagged: int = 0
    low_volume: int = 0
    signals: int = 0
    seconds: float = 0.0


def judge_day(
    session: Session,
    *,
    day: date,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
    instance: str,
) -> DayReport:
    """Claim `day` and judge every window the cameras counted that day; flush, never commit."""
    started = time.perf_counter()
    run_id = _claim(session, day=day, now=now, instance=instance)
    if run_id is None:
        return DayReport(day, judged=False)
    keys = hall_profile_keys(session, default_key=default_profile)
    enabled = {hall for hall, key in keys.items() if get_profile(key).dualtrack.enabled}
    places = counts.window_places(session)
    visits = counts.day_visits(session, day=day)
    cases = counts.case_seconds(session, day=day)
    windows = sorted(w for w in visits if w in places and places[w].hall_id in enabled)
    history = _histories(session, day=day, halls=keys, default_profile=default_profile)
    verdicts: dict[int, tuple[Verdict, list[list[Any]]]] = {}
    for window_id in windows:
        rules = get_profile(keys.get(places[window_id].hall_id, default_profile)).dualtrack
        seen, recorded = visits[window_id], cases.get(window_id, [])
        method, hours = _hours(seen, recorded, rules)
        verdicts[window_id] = (
            judge(hours, history.get((window_id, method.value)), rules, method),
            [[h.hour, h.visits, h.cases] for h in hours],
        )
    flagged = {w: v.hours_over for w, (v, _hours) in verdicts.items() if v.outcome is Outcome.FLAGGED}
    evidence = counts.evidence_in_hours(session, day=day, hours=flagged, limit=EVIDENCE_LIMIT)
    rows = [
        _judgement_row(
            run_id,
            day,
            places[w],
            keys.get(places[w].hall_id, default_profile),
            v,
            hours,
            evidence.get(w, []),
            now,
        )
        for w, (v, hours) in verdicts.items()
    ]
    ids = _insert_judgements(session, rows)
    issued = _raise_signals(
        session,
        ids=ids,
        day=day,
        now=now,
        calendar=calendar,
        verdicts=verdicts,
        places=places,
        evidence=evidence,
        profile_keys={hall: keys.get(hall, default_profile) for hall in {p.hall_id for p in places.values()}},
    )
    report = DayReport(
        day,
        judged=True,
        windows=len(verdicts),
        flagged=len(flagged),
        low_volume=sum(v.outcome is Outcome.LOW_VOLUME for v, _hours in verdicts.values()),
        signals=issued,
        seconds=time.perf_counter() - started,
    )
    _finish(session, run_id=run_id, report=report, now=now, instance=instance)
    return report


def _hours(
    seen: counts.WindowVisits, recorded: list[int], rules: DualTrackRules
) -> tuple[Method, list[HourCount]]:
    """The visits method where the edge reported every counted hour's visits, else the counts."""
    if seen.spans is not None:
        return Method.VISITS, visit_hours(seen.counts, seen.spans, recorded, rules)
    by_hour: dict[int, int] = {}
    for second in recorded:
        by_hour[second // 3600] = by_hour.get(second // 3600, 0) + 1
    return Method.COUNTS, [
        HourCount(h, seen.counts.get(h), by_hour.get(h, 0)) for h in sorted({*seen.counts, *by_hour})
    ]


def _claim(session: Session, *, day: date, now: datetime, instance: str) -> int | None:
    postgres = session.get_bind().dialect.name == "postgresql"
    dialect_insert = pg_insert if postgres else sqlite_insert
    statement = (
        dialect_insert(DualTrackRun)
        .values(day=day, instance=instance, started_at=now, finished_at=now)
        .values(windows=0, flagged=0, low_volume=0, signals=0)
        .on_conflict_do_nothing(index_elements=["day"])
        .returning(DualTrackRun.id)
    )
    return cast(CursorResult[Any], session.execute(statement)).scalar_one_or_none()


def _histories(
    session: Session, *, day: date, halls: dict[int, str], default_profile: str
) -> dict[tuple[int, str], History]:
    """Each window's history, one query per distinct look-back among the profiles in use."""
    by_lookback: dict[int, list[int]] = {}
    for hall_id, key in halls.items():
        by_lookback.setdefault(get_profile(key).dualtrack.baseline_days, []).append(hall_id)
    if not by_lookback:
        by_lookback[get_profile(default_profile).dualtrack.baseline_days] = []
    if len(by_lookback) == 1:
        return counts.histories(session, day=day, lookback_days=next(iter(by_lookback)), hall_ids=None)
    found = {}
    for lookback, hall_ids in sorted(by_lookback.items()):
        found.update(counts.histories(session, day=day, lookback_days=lookback, hall_ids=sorted(hall_ids)))
    return found


def _judgement_row(
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


def _insert_judgements(session: Session, rows: list[dict[str, Any]]) -> dict[int, int]:
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


def _raise_signals(
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
) -> int:
    flagged = [w for w, (v, _hours) in verdicts.items() if v.outcome is Outcome.FLAGGED and w in ids]
    today, rows = shanghai_date(now), []
    deadlines: dict[int, date | None] = {}
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
    return insert_signals(session, day=day, rows=rows)


def _finish(session: Session, *, run_id: int, report: DayReport, now: datetime, instance: str) -> None:
    session.execute(
        update(DualTrackRun)
        .where(DualTrackRun.id == run_id)
        .values(
            finished_at=now + timedelta(seconds=report.seconds),
            windows=report.windows,
            flagged=report.flagged,
            low_volume=report.low_volume,
            signals=report.signals,
        )
    )
    record(
        session,
        actor=DUALTRACK_ACTOR,
        action="dualtrack.day.judge",
        target_type="dualtrack_run",
        target_id=str(run_id),
        after={
            "day": report.day.isoformat(),
            "windows": report.windows,
            "flagged": report.flagged,
            "low_volume": report.low_volume,
            "signals": report.signals,
            "instance": instance,
        },
        at=now,
    )
    logger.info(
        "dual-track %s: %d windows, %d flagged, %d too few visitors, %d signals in %.2f s",
        report.day,
        report.windows,
        report.flagged,
        report.low_volume,
        report.signals,
        report.seconds,
    )


def last_judged_day(session: Session) -> date | None:
    return session.scalar(select(func.max(DualTrackRun.day)))


def days_due(session: Session, *, now: datetime, delay: timedelta) -> list[date]:
    """The days to judge now, in order (see the module docstring)."""
    last_ready = shanghai_date(now - delay) - timedelta(days=1)
    last = last_judged_day(session)
    if last is None:
        first = last_ready
    else:  # a central down for weeks catches up the last MAX_CATCH_UP days, not all of them
        first = max(last + timedelta(days=1), last_ready - timedelta(days=MAX_CATCH_UP - 1))
    return [first + timedelta(days=n) for n in range((last_ready - first).days + 1)]


def judge_due_days(
    session: Session, *, today: date, now: datetime, calendar: WorkCalendar, default_profile: str
) -> int:
    """The signal pass's source: judge every day due; returns the new signals. Flushes, never commits."""
    delay = timedelta(minutes=get_profile(default_profile).dualtrack.judge_delay_minutes)
    issued = 0
    for day in days_due(session, now=now, delay=delay):
        report = judge_day(
            session,
            day=day,
            now=now,
            calendar=calendar,
            default_profile=default_profile,
            instance=f"signals:{instance_name()}",
        )
        issued += report.signals
    return issued


DUALTRACK_SIGNAL_SOURCES: dict[str, SignalSource] = {DUAL_TRACK: judge_due_days}

__all__ = [
    "DUALTRACK_ACTOR",
    "DUALTRACK_SIGNAL_SOURCES",
    "DUAL_TRACK",
    "DayReport",
    "days_due",
    "judge_day",
    "judge_due_days",
    "last_judged_day",
]
