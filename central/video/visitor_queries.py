"""Visitor counts per window (per hour or per day), and the dual-track cross-check.

Dual-track (双轨) and "virtual" operation — cases handled off-system, selective entry (RULES, last
section; QTH part 2) — show as a window where the camera counted more citizen visits on a day than
the window recorded cases: `difference = visits_counted - cases_recorded`. A case counts once per
window and day however many events it had there; voided events (SC-18) do not count. A day the
camera sent no count has no difference (null), never a fake zero.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from central.cases.models import CaseEvent, CaseEventVoid
from central.core.clock import shanghai_date, to_utc
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Hall
from central.video.errors import VideoError
from central.video.models import VisitorCount
from central.video.queries import HallWindow, day_bounds, hall_windows
from central.video.schemas import DualTrackRow, VisitorRow, VisitorsBy

logger = logging.getLogger(__name__)

MAX_DAYS = 92


def check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise VideoError(422, "date_to is before date_from", "截止日期早于起始日期。")
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise VideoError(422, f"at most {MAX_DAYS} days at once", f"一次最多查询 {MAX_DAYS} 天。")


def _counts(
    session: Session, windows: list[HallWindow], date_from: date, date_to: date
) -> list[tuple[int, datetime, int, float]]:
    """(window, hour, visits, seated seconds): an hour reported in parts (the agent restarted
    mid-hour) is their sum; the parts of a recording count only in an hour no live camera reported
    (central.video.recorded)."""
    start, end = day_bounds(date_from)[0], day_bounds(date_to)[1]
    query = (
        select(
            VisitorCount.window_id,
            VisitorCount.hour_start,
            VisitorCount.origin,
            func.sum(VisitorCount.visits),
            func.sum(VisitorCount.seated_seconds),
        )
        .where(
            VisitorCount.window_id.in_([w.id for w in windows]),
            VisitorCount.hour_start >= start,
            VisitorCount.hour_start < end,
        )
        .group_by(VisitorCount.window_id, VisitorCount.hour_start, VisitorCount.origin)
        .order_by(VisitorCount.hour_start)
    )
    hours: dict[tuple[int, datetime], tuple[str, int, float]] = {}
    for window_id, hour, origin, visits, seated in session.execute(query):
        key = (window_id, to_utc(hour))
        if key not in hours or origin == "live":
            hours[key] = (origin, int(visits), min(float(seated), 3600.0))
    return [(w, h, v, s) for (w, h), (_origin, v, s) in sorted(hours.items(), key=lambda item: item[0][1])]


def visitor_counts(
    session: Session,
    *,
    hall: Hall,
    within: Jurisdiction,
    date_from: date,
    date_to: date,
    by: VisitorsBy,
) -> list[VisitorRow]:
    check_range(date_from, date_to)
    windows = hall_windows(session, hall=hall, within=within)
    named = {w.id: w for w in windows}
    rows = _counts(session, windows, date_from, date_to)
    if by is VisitorsBy.HOUR:
        result = [
            VisitorRow(
                window_code=named[w].code,
                window_name=named[w].name,
                day=shanghai_date(hour),
                hour_start=hour,
                visits=visits,
                seated_seconds=seated,
            )
            for w, hour, visits, seated in rows
        ]
        return sorted(result, key=lambda r: (r.window_code, r.hour_start or r.day))
    days: dict[tuple[int, date], list[float]] = defaultdict(lambda: [0, 0.0])
    for w, hour, visits, seated in rows:
        total = days[(w, shanghai_date(hour))]
        total[0] += visits
        total[1] += seated
    return [
        VisitorRow(
            window_code=named[w].code,
            window_name=named[w].name,
            day=day,
            hour_start=None,
            visits=int(visits),
            seated_seconds=seated,
        )
        for (w, day), (visits, seated) in sorted(
            days.items(), key=lambda kv: (named[kv[0][0]].code, kv[0][1])
        )
    ]


def _shanghai_day(session: Session, column: Any) -> ColumnElement[Any]:
    """The Shanghai calendar day of a UTC timestamp, in SQL (Shanghai has no daylight saving)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")  # SQLite stores naive UTC text


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def recorded_cases(
    session: Session, windows: list[HallWindow], date_from: date, date_to: date
) -> dict[tuple[int, date], int]:
    """(window id, day) → distinct cases with a not-voided event at that window that day."""
    start, end = day_bounds(date_from)[0], day_bounds(date_to)[1]
    day = _shanghai_day(session, CaseEvent.at)
    query = (
        select(CaseEvent.window_id, day, func.count(func.distinct(CaseEvent.case_id)))
        .outerjoin(CaseEventVoid, CaseEventVoid.event_id == CaseEvent.id)
        .where(
            CaseEvent.window_id.in_([w.id for w in windows]),
            CaseEvent.at >= start,
            CaseEvent.at < end,
            CaseEventVoid.id.is_(None),
        )
        .group_by(CaseEvent.window_id, day)
    )
    return {
        (window_id, _as_date(on)): count
        for window_id, on, count in session.execute(query)
        if window_id is not None  # the query asks for these windows only
    }


def dual_track(
    session: Session, *, hall: Hall, within: Jurisdiction, date_from: date, date_to: date
) -> list[DualTrackRow]:
    """Per window per day with a camera count or recorded cases: visits vs cases, and the difference."""
    check_range(date_from, date_to)
    windows = hall_windows(session, hall=hall, within=within)
    visits: dict[tuple[int, date], int] = defaultdict(int)
    for window_id, hour, count, _seated in _counts(session, windows, date_from, date_to):
        visits[(window_id, shanghai_date(hour))] += count
    cases = recorded_cases(session, windows, date_from, date_to)
    rows = []
    day = date_from
    while day <= date_to:
        for window in windows:
            key = (window.id, day)
            if key not in visits and key not in cases:
                continue
            counted = visits.get(key)
            recorded = cases.get(key, 0)
            rows.append(
                DualTrackRow(
                    day=day,
                    window_code=window.code,
                    window_name=window.name,
                    visits_counted=counted,
                    cases_recorded=recorded,
                    difference=None if counted is None else counted - recorded,
                )
            )
        day += timedelta(days=1)
    return rows


__all__ = ["MAX_DAYS", "check_range", "dual_track", "recorded_cases", "visitor_counts"]
