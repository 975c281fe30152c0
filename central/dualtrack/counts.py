"""What one day's judgement reads, in a few set-based statements over every window at once.

* Visits per window and Shanghai hour (`video_visitor_counts`), with each visit's start and length
  where the edge reported them: an hour reported in parts is their sum; a recording's parts count
  only in an hour no live camera reported — the rule of `central.video.visitor_queries`.
* Cases per window: each case once per window and day, at its first not-voided event there (the
  day's count is `central.video.visitor_queries.recorded_cases`'s). One range scan of
  `case_events.at` (indexed) for the day.
* Each window's history: count and sums of its unflagged judged days in the look-back.
* The window's snapshots (SC-18 evidence) in given hours, for a flagged judgement to link.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy import ARRAY, ColumnElement, Float, Integer, Text, any_, bindparam, cast, func, select
from sqlalchemy.orm import Session

from central.cases.models import CaseEvent, CaseEventVoid
from central.core.clock import to_utc
from central.dualtrack.matching import Cases
from central.dualtrack.models import DualTrackJudgement
from central.dualtrack.rule import History, Outcome
from central.registry.models import ServiceWindow, Staff
from central.video.models import JPEG, Evidence, VisitorCount
from central.video.queries import day_bounds

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowPlace:
    id: int
    code: str
    name: str
    hall_id: int
    department_id: int | None


def _seconds_of(session: Session, column: Any, start: datetime) -> ColumnElement[int]:
    """Whole seconds from `start` (the day's Shanghai midnight) to a UTC timestamp, in SQL."""
    epoch = int(start.timestamp())
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", column) - epoch), Integer)
    # SQLite: naive UTC text
    return cast(func.strftime("%s", column), Integer) - epoch


@dataclass
class WindowVisits:
    """One window's day as the camera saw it: visits per Shanghai hour and, where every counted hour
    came with them, its visits as (hour, [offset, seconds, offset, seconds, …]) pieces as stored."""

    counts: dict[int, int]
    spans: list[tuple[int, list[int]]] | None


def day_visits(session: Session, *, day: date, windows: set[int] | None = None) -> dict[int, WindowVisits]:
    """Per window: an hour reported in parts is their sum; a recording's parts count only in an hour
    no live camera reported (the rule of `central.video.visitor_queries`). A province's day is
    80,000 rows: chosen and summed on arrays, the spans parsed in one json.loads."""
    start, end = day_bounds(day)
    seconds = _seconds_of(session, VisitorCount.hour_start, start).label("second")
    query = select(
        VisitorCount.window_id,
        seconds,
        VisitorCount.origin,
        VisitorCount.visits,
        cast(VisitorCount.spans, Text),
    ).where(VisitorCount.hour_start >= start, VisitorCount.hour_start < end)
    if windows is not None:
        query = query.where(VisitorCount.window_id.in_(sorted(windows)))
    # In window and hour order, so the visits need no sorting (`Visits.of_pieces`).
    order = (VisitorCount.window_id, VisitorCount.hour_start, VisitorCount.watched_from_second)
    rows = session.connection().execute(query.order_by(*order)).all()
    if not rows:
        return {}
    window = np.array([row[0] for row in rows], dtype=np.int64)
    key = window * 24 + np.array([row[1] for row in rows], dtype=np.int64) // 3600
    live = np.array([row[2] == "live" for row in rows])
    texts = [row[4] if row[4] not in (None, "null") else None for row in rows]
    has_spans = np.array([text is not None for text in texts])
    hours, part_of = np.unique(key, return_inverse=True)
    any_live = np.zeros(len(hours), dtype=bool)
    np.logical_or.at(any_live, part_of, live)
    chosen = live | ~any_live[part_of]
    visits = np.array([row[3] for row in rows], dtype=np.int64)
    totals = np.bincount(part_of, weights=np.where(chosen, visits, 0), minlength=len(hours))
    without = set(window[chosen & ~has_spans].tolist())  # a chosen part with no spans: counts only
    found = {w: WindowVisits({}, None if w in without else []) for w in np.unique(window).tolist()}
    for hour_key, total in zip(hours.tolist(), totals.tolist(), strict=True):
        found[hour_key // 24].counts[hour_key % 24] = int(total)
    wanted = [i for i in np.flatnonzero(chosen & has_spans).tolist() if window[i] not in without]
    parsed = json.loads("[" + ",".join(str(texts[i]) for i in wanted) + "]")
    for i, flat in zip(wanted, parsed, strict=True):
        pieces = found[rows[i][0]].spans
        if flat and pieces is not None:
            pieces.append((int(key[i]) % 24, flat))
    return found


def day_cases(session: Session, *, day: date, windows: set[int] | None = None) -> Cases:
    """Each case once per window, at the second of the day of its first not-voided event there that
    day. One range scan of `case_events.at` (indexed) for the day; the first event of each case is
    picked in numpy (a GROUP BY over a province's million events costs SQLite three times the scan)."""
    start, end = day_bounds(day)
    second = _seconds_of(session, CaseEvent.at, start)
    query = (
        select(CaseEvent.window_id, CaseEvent.case_id, second)
        .outerjoin(CaseEventVoid, CaseEventVoid.event_id == CaseEvent.id)
        .where(
            CaseEvent.at >= start,
            CaseEvent.at < end,
            CaseEvent.window_id.is_not(None) if windows is None else CaseEvent.window_id.in_(sorted(windows)),
            CaseEventVoid.id.is_(None),
        )
    )
    # A million plain integer rows: straight from the driver's cursor (a Row object each would cost
    # more than the query; the three columns need no type processing).
    rows = session.connection().execute(query).cursor.fetchall()
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=3 * len(rows)).reshape(-1, 3)
    window, at = flat[:, 0], flat[:, 2]
    pair = window << 32 | flat[:, 1]  # (window, case) as one key: ids stay far below 2³¹
    order = np.lexsort((at, pair))
    pair, window, at = pair[order], window[order], at[order]
    first = np.r_[True, pair[1:] != pair[:-1]] if len(pair) else np.zeros(0, dtype=bool)
    return Cases.of(window[first], at[first])


def histories(
    session: Session, *, day: date, lookback_days: int, hall_ids: list[int] | None
) -> dict[tuple[int, str], History]:
    """Per window and method: its unflagged judged days in [day − lookback_days, day) with visitors."""
    j = DualTrackJudgement
    query = (
        select(
            j.window_id,
            j.method,
            func.count(),
            func.sum(j.visits),
            func.sum(j.excess),
            func.sum(cast(j.excess, Float) * j.excess / j.visits),
        )
        .where(
            j.day >= day - timedelta(days=lookback_days),
            j.day < day,
            j.outcome != Outcome.FLAGGED.value,
            j.visits > 0,
        )
        .group_by(j.window_id, j.method)
    )
    if hall_ids is not None:
        query = query.where(j.hall_id.in_(hall_ids))
    return {
        (window_id, method): History(days=int(n), visits=int(v), excess=int(e), excess_sq_per_visit=float(sq))
        for window_id, method, n, v, e, sq in session.execute(query)
    }


def window_places(session: Session) -> dict[int, WindowPlace]:
    """Every window with its hall and department (a window without one: its first active staff's)."""
    places = {
        row.id: WindowPlace(row.id, row.code, row.name, row.hall_id, row.department_id)
        for row in session.execute(
            select(
                ServiceWindow.id,
                ServiceWindow.code,
                ServiceWindow.name,
                ServiceWindow.hall_id,
                ServiceWindow.department_id,
            )
        )
    }
    orphans = [w for w, place in places.items() if place.department_id is None]
    if orphans:
        staffed = session.execute(
            select(Staff.window_id, func.min(Staff.department_id))
            .where(Staff.window_id.in_(orphans), Staff.active)
            .group_by(Staff.window_id)
        )
        for window_id, department_id in staffed:
            p = places[window_id]
            places[window_id] = WindowPlace(p.id, p.code, p.name, p.hall_id, department_id)
    return places


def evidence_in_hours(
    session: Session, *, day: date, hours: dict[int, list[int]], limit: int
) -> dict[int, list[int]]:
    """Per window: up to `limit` snapshots (JPEG, not purged) taken in the given Shanghai hours."""
    if not hours:
        return {}
    start, end = day_bounds(day)
    found: dict[int, list[int]] = defaultdict(list)
    ids = sorted(hours)
    # PostgreSQL: one array parameter; thousands of flagged windows as an IN list cost its planner more
    # than the scan.
    if session.get_bind().dialect.name == "postgresql":
        of_windows = Evidence.window_id == any_(bindparam("window_ids", ids, type_=ARRAY(Integer)))
    else:
        of_windows = Evidence.window_id.in_(ids)
    rows = session.execute(
        select(Evidence.id, Evidence.window_id, Evidence.taken_at)
        .where(
            of_windows,
            Evidence.taken_at >= start,
            Evidence.taken_at < end,
            Evidence.media_type == JPEG,
            Evidence.purged_at.is_(None),
        )
        .order_by(Evidence.taken_at, Evidence.id)
    )
    for evidence_id, window_id, taken_at in rows:
        hour = int((to_utc(taken_at) - start).total_seconds() // 3600)
        if hour in hours[window_id] and len(found[window_id]) < limit:
            found[window_id].append(evidence_id)
    return dict(found)


__all__ = [
    "WindowPlace",
    "WindowVisits",
    "day_cases",
    "day_visits",
    "evidence_in_hours",
    "histories",
    "window_places",
]
