"""Satisfaction figures (HCP, SC-6(3)) per window, staff member, department, hall or day, over a
range of Shanghai days, inside the caller's jurisdiction — computed in SQL with GROUP BY.

Definitions (each group, and the total):

* **count** — ratings in the range, *excluded ratings left out* (an approved exclusion removes a
  mistaken or malicious 差评 from every figure; the rating itself stays on record).
* **weight** — the sum of the ratings' weights: a rating made in a burst of rapid presses weighs
  `profile.ratings.burst_weight` (US20150186959A1), an unattended one (see unattended_count)
  `profile.ratings.unattended_weight`, every other 1.
* **average_level** — Σ(weight × level) ÷ Σ weight, on the five-level scale (5 非常满意 … 1 非常不满意).
* **satisfaction_rate (好评率)** — Σ weight of the ratings that are *not* 差评 ÷ Σ weight. The
  national 好差评 system (国办发〔2019〕51号《关于建立政务服务“好差评”制度提高政务服务水平的意见》)
  has five levels, of which 不满意 and 非常不满意 are 差评; provincial 好差评 reports count
  非常满意 + 满意 + 基本满意 as 好评 and publish 好评率 = 好评数 ÷ 评价总数. So with the default
  profile (bad_max_level 2) this is (非常满意 + 满意 + 基本满意) ÷ total, weighted; a hall whose
  profile moves bad_max_level moves the line with it, so 好评 and 差评 always add up to the total.
* **bad_count** — 差评 counted one by one (not weighted): each has a follow-up.
* **unattended_count** — ratings pressed while the window camera saw nobody at the counter (binding
  rule 6): they weigh `profile.ratings.unattended_weight` (0 by default); many of them at one
  window or staff member point to a clerk rating themselves.
* **followups / called_back / rectified** — follow-ups of the counted ratings; those with a
  recorded callback (回访); those rectified (整改, closed ones included).
* **callback_rate** — called_back ÷ followups (HCP: it must reach 100%); **rectified_rate** —
  rectified ÷ followups. Rates are None when there is nothing to divide by.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, null, select
from sqlalchemy.orm import Session

from central.core.types import DATE_RANGE_TEXT, DATE_RANGE_ZH, EARLIEST_DAY, LATEST_DAY
from central.profiles.assignment import halls_by_profile
from central.ratings.models import FollowUp, Rating
from central.ratings.schemas import FigureBy, FigureRow, FiguresOut
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Hall, ServiceWindow, Staff
from common.profiles.loader import get_profile

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 731  # two years: a range longer than that is refused (422 / 400)
NONE_LABELS = {
    FigureBy.WINDOW: "（未关联窗口）",
    FigureBy.STAFF: "（未关联人员）",
    FigureBy.DEPARTMENT: "（未关联部门）",
    FigureBy.HALL: "",
    FigureBy.DAY: "",
}


class RangeError(ValueError):
    """A date range the figures cannot be computed over; `zh` says why, for pages."""

    def __init__(self, detail: str, zh: str) -> None:
        super().__init__(detail)
        self.zh = zh


def date_range(date_from: date | None, date_to: date | None, *, today: date) -> tuple[date, date]:
    """The range asked for, defaulting to the last 30 days up to today; checked."""
    for given in (date_from, date_to):
        if given is not None and not EARLIEST_DAY <= given <= LATEST_DAY:
            raise RangeError(f"{DATE_RANGE_TEXT}, not {given}", f"日期超出范围：{DATE_RANGE_ZH}。")
    end = date_to or today
    start = date_from or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise RangeError("from is after to", "起始日期晚于截止日期，请调换或修改。")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise RangeError(
            f"the range is longer than {MAX_RANGE_DAYS} days", f"日期范围过长：最多 {MAX_RANGE_DAYS} 天。"
        )
    return start, end


def bad_threshold(session: Session, *, default_profile: str) -> ColumnElement[int]:
    """The highest 差评 level of each rating's hall, by the hall's profile, as a SQL expression."""
    groups = halls_by_profile(session, default_key=default_profile) or {default_profile: []}
    levels: dict[int, list[int]] = {}
    for key, halls in groups.items():
        levels.setdefault(get_profile(key).ratings.bad_max_level, []).extend(halls)
    if len(levels) == 1:
        return literal(next(iter(levels)))
    *others, (last, _halls) = sorted(levels.items(), key=lambda item: len(item[1]))
    return case(
        *((Rating.hall_id.in_(halls), literal(level)) for level, halls in others), else_=literal(last)
    )


def _measures(threshold: ColumnElement[int]) -> list[Any]:
    bad = Rating.level <= threshold
    return [
        func.count(Rating.id).label("count"),
        func.coalesce(func.sum(Rating.weight), 0.0).label("weight"),
        func.coalesce(func.sum(Rating.weight * Rating.level), 0.0).label("weighted_levels"),
        func.coalesce(func.sum(case((bad, 0.0), else_=Rating.weight)), 0.0).label("good_weight"),
        func.coalesce(func.sum(case((bad, 1), else_=0)), 0).label("bad_count"),
        func.coalesce(func.sum(case((Rating.unattended, 1), else_=0)), 0).label("unattended_count"),
        func.count(FollowUp.id).label("followups"),
        func.count(FollowUp.callback_at).label("called_back"),
        func.count(FollowUp.rectified_at).label("rectified"),
    ]


def _group_columns(by: FigureBy) -> tuple[list[Any], list[Any]]:
    """What to select (key, label, hall code of the group) and what to GROUP BY."""
    if by is FigureBy.WINDOW:
        columns = [ServiceWindow.code, ServiceWindow.name, Hall.code]
    elif by is FigureBy.STAFF:
        columns = [Staff.code, Staff.name, Hall.code]
    elif by is FigureBy.DEPARTMENT:
        columns = [Department.code, Department.name, Hall.code]
    elif by is FigureBy.HALL:
        return [Hall.code, Hall.name, null()], [Hall.code, Hall.name]
    else:
        return [Rating.rated_on, null(), null()], [Rating.rated_on]
    return columns, columns


def _base(
    query: Select[*tuple[Any, ...]], *, within: Jurisdiction, start: date, end: date
) -> Select[*tuple[Any, ...]]:
    return (
        query.select_from(Rating)
        .join(Hall, Hall.id == Rating.hall_id)
        .outerjoin(FollowUp, FollowUp.rating_id == Rating.id)
        .where(
            Rating.excluded.is_(False),
            Rating.rated_on >= start,
            Rating.rated_on <= end,
            within.clause(hall_id=Rating.hall_id, department_id=Rating.department_id),
        )
    )


def _row(values: Any, *, key: Any, label: Any, hall_code: str | None, by: FigureBy | None) -> FigureRow:
    weight = float(values.weight or 0)
    followups = int(values.followups or 0)
    key_text = key.isoformat() if isinstance(key, date) else key
    label_text = label.isoformat() if isinstance(label, date) else label
    return FigureRow(
        key=None if key_text is None else str(key_text),
        label=str(label_text) if label_text is not None else (NONE_LABELS[by] if by else "合计"),
        hall_code=hall_code,
        count=int(values.count or 0),
        weight=round(weight, 6),
        average_level=round(float(values.weighted_levels) / weight, 4) if weight > 0 else None,
        satisfaction_rate=round(float(values.good_weight) / weight, 6) if weight > 0 else None,
        bad_count=int(values.bad_count or 0),
        unattended_count=int(values.unattended_count or 0),
        followups=followups,
        called_back=int(values.called_back or 0),
        rectified=int(values.rectified or 0),
        callback_rate=round(int(values.called_back) / followups, 6) if followups else None,
        rectified_rate=round(int(values.rectified) / followups, 6) if followups else None,
    )


def satisfaction_figures(
    session: Session,
    *,
    within: Jurisdiction,
    by: FigureBy,
    date_from: date,
    date_to: date,
    default_profile: str,
) -> FiguresOut:
    """Figures per group and in total over [date_from, date_to] (Shanghai days, inclusive)."""
    threshold = bad_threshold(session, default_profile=default_profile)
    measures = _measures(threshold)
    selected, groups = _group_columns(by)
    query = _base(select(*selected, *measures), within=within, start=date_from, end=date_to)
    if by is FigureBy.WINDOW:
        query = query.outerjoin(ServiceWindow, ServiceWindow.id == Rating.window_id)
    elif by is FigureBy.STAFF:
        query = query.outerjoin(Staff, Staff.id == Rating.staff_id)
    elif by is FigureBy.DEPARTMENT:
        query = query.outerjoin(Department, Department.id == Rating.department_id)
    query = query.group_by(*groups)
    rows = [
        _row(
            values,
            key=values[0],
            label=values[0] if by is FigureBy.DAY else values[1],
            hall_code=values[0] if by is FigureBy.HALL else values[2],
            by=by,
        )
        for values in session.execute(query)
    ]
    if by is FigureBy.DAY:
        rows.sort(key=lambda row: row.key or "")
    else:
        rows.sort(key=lambda row: (-row.count, row.hall_code or "", row.key or ""))
    totals = session.execute(_base(select(*measures), within=within, start=date_from, end=date_to)).one()
    total = _row(totals, key=None, label=None, hall_code=None, by=None)
    return FiguresOut(by=by, date_from=date_from, date_to=date_to, total=total, rows=rows)


__all__ = [
    "DEFAULT_DAYS",
    "MAX_RANGE_DAYS",
    "RangeError",
    "bad_threshold",
    "date_range",
    "satisfaction_figures",
]
