"""Judging a window's day again when camera counts for it reached central after it was judged.

An edge agent cut off from central keeps its counts in its outbox and sends them when the link comes
back, possibly after the day was judged: without them the day was judged on part of the visitors,
or not at all for that window. Each pass of the signal source looks back `REJUDGE_DAYS` judged days
for counts stored after the window's judgement (or, where the window had none, after the day's run
began), and judges those windows' days again with everything now known — against the same history
the day had (the judged days before it).

The judgement row is updated in place (its counts, statistics and outcome now; what it said before
is in the audit entry, `dualtrack.day.rejudge`, one per day with each window's before and after). A
window now flagged gets its signal as on the day itself (deduplicated by window and day). A window
that was flagged and is now clear keeps its signal: it was raised on what was known then, and the
inspector handling it sees the judgement page's current outcome.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.core.actor import Actor
from central.core.clock import shanghai_date
from central.dualtrack.assess import assess
from central.dualtrack.models import DualTrackJudgement, DualTrackRun
from central.dualtrack.rows import insert_judgements, judgement_row, raise_signals
from central.dualtrack.signals import link_signals
from central.video.models import VisitorCount
from central.video.queries import day_bounds
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

REJUDGE_DAYS = 7
REJUDGE_ACTOR = Actor(kind="system", name="dualtrack")
KEPT_FIELDS = ("run_id", "signal_id")  # a judgement keeps its run and its signal when judged again


def late_windows(session: Session, *, now: datetime) -> dict[date, set[int]]:
    """Per judged day of the look-back: the windows with counts stored after their judgement."""
    since = shanghai_date(now) - timedelta(days=REJUDGE_DAYS)
    runs = session.execute(select(DualTrackRun.day, DualTrackRun.started_at).where(DualTrackRun.day >= since))
    found: dict[date, set[int]] = {}
    for day, started_at in runs:
        start, end = day_bounds(day)
        stored = session.execute(
            select(VisitorCount.window_id, func.max(VisitorCount.updated_at))
            .where(
                VisitorCount.hour_start >= start,
                VisitorCount.hour_start < end,
                VisitorCount.updated_at > started_at,
                VisitorCount.updated_at <= now,  # as the pass's moment saw it (a pass run for the past)
            )
            .group_by(VisitorCount.window_id)
        ).all()
        if not stored:
            continue
        judged = dict(
            session.execute(
                select(DualTrackJudgement.window_id, DualTrackJudgement.computed_at).where(
                    DualTrackJudgement.day == day,
                    DualTrackJudgement.window_id.in_(sorted(w for w, _at in stored)),
                )
            ).all()
        )
        late = {w for w, at in stored if w not in judged or at > judged[w]}
        if late:
            found[day] = late
    return found


def rejudge_late(session: Session, *, now: datetime, calendar: WorkCalendar, default_profile: str) -> int:
    """Judge again every window-day with late counts; returns the new signals. Flushes, never commits."""
    issued = 0
    for day, windows in sorted(late_windows(session, now=now).items()):
        issued += rejudge_day(
            session, day=day, windows=windows, now=now, calendar=calendar, default_profile=default_profile
        )
    return issued


def rejudge_day(
    session: Session,
    *,
    day: date,
    windows: set[int],
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> int:
    run_id = session.scalar(select(DualTrackRun.id).where(DualTrackRun.day == day))
    assert run_id is not None, f"{day} has not been judged"
    found = assess(session, day=day, default_profile=default_profile, only=windows)
    existing = {
        j.window_id: j
        for j in session.scalars(
            select(DualTrackJudgement).where(
                DualTrackJudgement.day == day, DualTrackJudgement.window_id.in_(sorted(found.verdicts))
            )
        )
    }
    changes, new_rows = [], []
    for window_id, (verdict, hours) in found.verdicts.items():
        place = found.places[window_id]
        row = judgement_row(
            run_id,
            day,
            place,
            found.keys.get(place.hall_id, default_profile),
            verdict,
            hours,
            found.evidence.get(window_id, []),
            now,
        )
        before = existing.get(window_id)
        changes.append(
            {
                "window": place.code,
                "before": None if before is None else [before.outcome, before.visits, before.cases],
                "after": [row["outcome"], row["visits"], row["cases"]],
            }
        )
        if before is None:
            new_rows.append(row)
            continue
        for field, value in row.items():
            if field not in KEPT_FIELDS:
                setattr(before, field, value)
    session.flush()
    ids = {w: j.id for w, j in existing.items()} | insert_judgements(session, new_rows)
    issued, signal_of = raise_signals(
        session,
        ids=ids,
        day=day,
        now=now,
        calendar=calendar,
        verdicts=found.verdicts,
        places=found.places,
        evidence=found.evidence,
        profile_keys={
            hall: found.keys.get(hall, default_profile) for hall in {p.hall_id for p in found.places.values()}
        },
    )
    link_signals(session, signal_of)  # the judgements are stored already: linked by one UPDATE
    record(
        session,
        actor=REJUDGE_ACTOR,
        action="dualtrack.day.rejudge",
        target_type="dualtrack_run",
        target_id=str(run_id),
        after={"day": day.isoformat(), "windows": changes, "signals": issued},
        at=now,
    )
    logger.info(
        "dual-track %s judged again for %d windows with late counts: %d new signals",
        day,
        len(changes),
        issued,
    )
    return issued


__all__ = ["REJUDGE_DAYS", "late_windows", "rejudge_day", "rejudge_late"]
