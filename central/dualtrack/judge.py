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

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.core.actor import Actor
from central.core.bulk import draw_ids
from central.core.clock import shanghai_date
from central.core.db import conflict_insert
from central.dualtrack.assess import assess
from central.dualtrack.models import DualTrackJudgement, DualTrackRun
from central.dualtrack.rejudge import rejudge_late
from central.dualtrack.rows import insert_judgements, judgement_row, raise_signals
from central.dualtrack.rule import Outcome
from central.jobs.runner import instance_name
from central.signals.scheduler import SignalSource
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
    found = assess(session, day=day, default_profile=default_profile)
    keys, places, verdicts, evidence = found.keys, found.places, found.verdicts, found.evidence
    rows = [
        judgement_row(
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
    # Judgement ids drawn first: each flagged window's signal names its judgement, and the judgement
    # is inserted with its signal id (no second write of 9,000 wide rows on a bad day).
    ids = dict(zip(verdicts, draw_ids(session, DualTrackJudgement, len(rows)), strict=True))
    issued, signal_of = raise_signals(
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
    for row in rows:
        row["id"] = ids[row["window_id"]]
        row["signal_id"] = signal_of.get(row["id"])
    insert_judgements(session, rows)
    report = DayReport(
        day,
        judged=True,
        windows=len(verdicts),
        flagged=sum(v.outcome is Outcome.FLAGGED for v, _hours in verdicts.values()),
        low_volume=sum(v.outcome is Outcome.LOW_VOLUME for v, _hours in verdicts.values()),
        signals=issued,
        seconds=time.perf_counter() - started,
    )
    _finish(session, run_id=run_id, report=report, now=now, instance=instance)
    return report


def _claim(session: Session, *, day: date, now: datetime, instance: str) -> int | None:
    dialect_insert = conflict_insert(session)
    statement = (
        dialect_insert(DualTrackRun)
        .values(day=day, instance=instance, started_at=now, finished_at=now)
        .values(windows=0, flagged=0, low_volume=0, signals=0)
        .on_conflict_do_nothing(index_elements=["day"])
        .returning(DualTrackRun.id)
    )
    return cast(CursorResult[Any], session.execute(statement)).scalar_one_or_none()


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
    """The signal pass's source: judge every day due, then again the window-days whose counts came
    late (`central.dualtrack.rejudge`); returns the new signals. Flushes, never commits."""
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
    return issued + rejudge_late(session, now=now, calendar=calendar, default_profile=default_profile)


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
