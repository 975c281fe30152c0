"""A province-sized case log for the data supervision benchmark, generated with numpy and bulk loaded.

20 halls × 10 departments × 5 items, two windows a department; N cases accepted on the working days
of six months (2026-05 … 2026-10, May Day, Dragon Boat, Mid-Autumn and National Day included), each
with its events (accepted, sometimes extended, sometimes suspended or sent for corrections and
resumed, then completed or refused) and a projection that agrees with them; the cameras' hourly
visitor counts and the staff seats' presence at every window on every working day. Planted in it,
one kind per rule: items handled far faster in the last month, departments completing on the due
date, pauses started a working day before it, acceptances at night, acceptances in hours a camera
counted nobody, departments without a case for a week of staffed days.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert

from central.core.clock import SHANGHAI
from central.registry.models import Department, Hall, Item, Region, ServiceWindow
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

FIRST, LAST = date(2026, 5, 1), date(2026, 10, 31)
HALLS, DEPARTMENTS_PER_HALL, ITEMS_PER_DEPARTMENT, WINDOWS_PER_DEPARTMENT = 20, 10, 5, 2
DEPARTMENTS = HALLS * DEPARTMENTS_PER_HALL
ITEMS = DEPARTMENTS * ITEMS_PER_DEPARTMENT
WINDOWS = DEPARTMENTS * WINDOWS_PER_DEPARTMENT
# Handled in a day or less from September: items usually taking 6 or more working days, so the
# difference passes the rule's minimum (2 working days) as well as its ratio.
FAST_ITEMS = np.array([i for i in range(7, ITEMS, 97) if 2 + (i * 7) % 12 >= 6][:10])
BUNCHING_DEPARTMENTS = np.array([3, 41, 77, 130, 188])  # complete on the due date in September
IDLE_DEPARTMENTS = np.array([12, 99, 150])  # no case on five staffed working days in August
EMPTY_HOURS = 300  # window-hours whose camera counted nobody
CHUNK = 50_000
CASE_COLUMNS = [
    "id",
    "case_no",
    "item_id",
    "hall_id",
    "department_id",
    "window_id",
    "promised_limit_days",
    "legal_limit_days",
    "status",
    "received_at",
    "accepted_on",
    "closed_on",
    "extension_days",
    "promised_due_date",
    "legal_due_date",
    "calendar_missing",
    "last_event_at",
    "event_count",
]
EVENT_COLUMNS = [
    "id",
    "event_id",
    "case_id",
    "type",
    "at",
    "window_id",
    "days",
    "reason",
    "content_hash",
    "source",
    "recorded_at",
]


@dataclass
class Planted:
    """What was planted, to check the rules found it."""

    fast_items: list[int]
    bunching_departments: list[int]
    pauses_before_due: int
    outside_hours_cases: int
    empty_hours: int
    idle_departments: list[int]
    counts: dict[str, int] = field(default_factory=dict)


def registry(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Region), [{"id": 1, "code": "510000", "name": "四川省", "level": "province"}])
        halls = [
            {"id": h, "code": f"H{h:03d}", "name": f"政务服务中心{h}", "region_id": 1, "level": "county"}
            for h in range(1, HALLS + 1)
        ]
        conn.execute(insert(Hall), halls)
        departments = [
            {"id": d, "code": f"D{d:04d}", "name": f"部门{d}", "hall_id": _hall_of(d)}
            for d in range(1, DEPARTMENTS + 1)
        ]
        conn.execute(insert(Department), departments)
        items = [
            {
                "id": i,
                "code": f"I{i:05d}",
                "name": f"事项{i}",
                "department_id": _department_of(i),
                "legal_limit_days": 20,
                "promised_limit_days": _usual(i) + 5,
            }
            for i in range(1, ITEMS + 1)
        ]
        conn.execute(insert(Item), items)
        windows = [
            {
                "id": w,
                "code": f"W{w:04d}",
                "name": f"{w}号窗口",
                "hall_id": _hall_of((w - 1) // WINDOWS_PER_DEPARTMENT + 1),
                "department_id": (w - 1) // WINDOWS_PER_DEPARTMENT + 1,
            }
            for w in range(1, WINDOWS + 1)
        ]
        conn.execute(insert(ServiceWindow), windows)


def _hall_of(department: int) -> int:
    return (department - 1) // DEPARTMENTS_PER_HALL + 1


def _department_of(item: Any) -> Any:
    return (item - 1) // ITEMS_PER_DEPARTMENT + 1


def _usual(item: Any) -> Any:
    return 2 + (item * 7) % 12  # an item's usual working days, 2..13


class Days:
    """Working days as ordinals, and the n-th working day after a day (vectorised add_workdays)."""

    def __init__(self, calendar: WorkCalendar) -> None:
        first, last = FIRST - timedelta(days=400), date(2026, 12, 31)  # closings run into December
        span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        self.workdays = np.array([d.toordinal() for d in span if calendar.is_workday(d)], dtype=np.int64)
        self.period = self.workdays[
            (self.workdays >= FIRST.toordinal()) & (self.workdays <= LAST.toordinal())
        ]

    def add(self, start: np.ndarray, n: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.workdays, start, side="right") + n - 1
        return np.where(n == 0, start, self.workdays[np.minimum(index, len(self.workdays) - 1)])


def _stamp(ordinal: np.ndarray, minute: np.ndarray, *, postgres: bool) -> list[str]:
    """Shanghai day + minute of day → the UTC text each backend stores."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    base = datetime.combine(date.fromordinal(719163), time(0), SHANGHAI)  # 1970-01-01 Shanghai
    seconds = (ordinal - 719163) * 86400 + minute * 60 + int((base - epoch).total_seconds())
    texts = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    suffix = "+00" if postgres else ".000000"
    return [t.replace("T", " ") + suffix for t in texts.tolist()]


def generate_cases(n: int, days: Days, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], Planted]:
    item = rng.integers(1, ITEMS + 1, n)
    department = _department_of(item)
    usual = _usual(item)
    accept = rng.choice(days.period, n)  # the last ones close after the period: not judged
    idle_first = days.period[(days.period >= date(2026, 8, 10).toordinal())][:5]
    keep = ~(np.isin(department, IDLE_DEPARTMENTS) & np.isin(accept, idle_first))
    item, department, usual, accept = item[keep], department[keep], usual[keep], accept[keep]
    n = len(item)
    minute = 540 + rng.integers(0, 480, n)
    night = rng.random(n) < 0.003
    minute = np.where(night, 1230, minute)  # 20:30
    used = np.maximum(0, np.rint(usual * rng.uniform(0.5, 1.5, n))).astype(np.int64)
    fast = np.isin(item, FAST_ITEMS) & (accept >= date(2026, 9, 1).toordinal())
    used = np.where(fast, rng.integers(0, 2, n), used)
    ext = np.where(rng.random(n) < 0.02, 5, 0)
    limit = usual + 5
    roll = rng.random(n)
    paused = roll < 0.10
    planted_pause = (roll >= 0.10) & (roll < 0.105)
    pause_kind = np.where(rng.random(n) < 0.5, "suspended", "correction_requested")
    pause_after = np.where(planted_pause, limit + ext - 1, 1 + (rng.random(n) * usual).astype(np.int64))
    pause_len = np.where(paused | planted_pause, rng.integers(1, 6, n), 0)
    pause_start = days.add(accept, pause_after)
    pause_end = days.add(pause_start, pause_len)
    due = days.add(accept, limit + ext + pause_len)
    used = np.where(planted_pause, np.maximum(used, pause_after + 1), used)
    closed = days.add(accept, used + pause_len)
    september = (accept >= date(2026, 8, 20).toordinal()) & (accept < date(2026, 9, 20).toordinal())
    bunch = np.isin(department, BUNCHING_DEPARTMENTS) & september & (rng.random(n) < 0.7)
    closed = np.where(bunch, due, closed)
    refused = rng.random(n) < 0.02
    data = {
        "item": item,
        "department": department,
        "hall": _hall_of(department),
        "window": (department - 1) * WINDOWS_PER_DEPARTMENT + 1 + rng.integers(0, WINDOWS_PER_DEPARTMENT, n),
        "accept": accept,
        "minute": minute,
        "limit": limit,
        "ext": ext,
        "pause": (paused | planted_pause),
        "pause_kind": pause_kind,
        "pause_start": pause_start,
        "pause_end": pause_end,
        "due": due,
        "legal_due": days.add(accept, 20 + ext + pause_len),
        "closed": closed,
        "refused": refused,
    }
    planted = Planted(
        fast_items=FAST_ITEMS.tolist(),
        bunching_departments=BUNCHING_DEPARTMENTS.tolist(),
        pauses_before_due=int((planted_pause & (pause_start <= LAST.toordinal())).sum()),
        outside_hours_cases=int(night.sum()),
        empty_hours=EMPTY_HOURS,
        idle_departments=IDLE_DEPARTMENTS.tolist(),
    )
    return data, planted


def _iso(values: np.ndarray) -> list[str]:
    return [date.fromordinal(v).isoformat() for v in values.tolist()]


def case_rows(data: dict[str, np.ndarray], *, postgres: bool) -> list[list[Any]]:
    n = len(data["item"])
    received = _stamp(data["accept"], data["minute"], postgres=postgres)
    finished = _stamp(data["closed"], np.full(n, 900), postgres=postgres)
    events = 2 + data["pause"] * 2 + (data["ext"] > 0)
    columns: dict[str, list[Any]] = {
        "id": list(range(1, n + 1)),
        "case_no": [f"BENCH{i:09d}" for i in range(1, n + 1)],
        "item_id": data["item"].tolist(),
        "hall_id": data["hall"].tolist(),
        "department_id": data["department"].tolist(),
        "window_id": data["window"].tolist(),
        "promised_limit_days": data["limit"].tolist(),
        "legal_limit_days": [20] * n,
        "status": np.where(data["refused"], "refused", "completed").tolist(),
        "received_at": received,
        "accepted_on": _iso(data["accept"]),
        "closed_on": _iso(data["closed"]),
        "extension_days": data["ext"].tolist(),
        "promised_due_date": _iso(data["due"]),
        "legal_due_date": _iso(data["legal_due"]),
        "calendar_missing": [False] * n,
        "last_event_at": finished,
        "event_count": events.tolist(),
    }
    return [columns[c] for c in CASE_COLUMNS]


def event_rows(data: dict[str, np.ndarray], *, postgres: bool) -> list[list[Any]]:
    """accepted, [extended], [pause start, pause end], completed/refused — in time order per case."""
    n = len(data["item"])
    case = np.arange(1, n + 1)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Any, np.ndarray]] = []
    everyone = np.ones(n, dtype=bool)
    parts.append(
        (everyone, data["accept"], data["minute"], np.full(n, "accepted", dtype=object), data["window"], case)
    )
    has_ext = data["ext"] > 0
    parts.append(
        (has_ext, data["accept"], data["minute"] + 5, np.full(n, "extended", dtype=object), None, case)
    )
    pause = data["pause"]
    parts.append((pause, data["pause_start"], np.full(n, 600), data["pause_kind"].astype(object), None, case))
    end_kind = np.where(data["pause_kind"] == "suspended", "resumed", "correction_received").astype(object)
    parts.append((pause, data["pause_end"], np.full(n, 660), end_kind, None, case))
    last = np.where(data["refused"], "refused", "completed").astype(object)
    parts.append((everyone, data["closed"], np.full(n, 900), last, None, case))
    columns: list[list[Any]] = [[] for _ in EVENT_COLUMNS]
    next_id = 1
    for number, (mask, day, minute, kind, window, ids) in enumerate(parts):
        count = int(mask.sum())
        stamps = _stamp(day[mask], minute[mask], postgres=postgres)
        event_ids = list(range(next_id, next_id + count))
        next_id += count
        columns[0] += event_ids
        columns[1] += [f"B{c}-{number}" for c in ids[mask].tolist()]
        columns[2] += ids[mask].tolist()
        columns[3] += kind[mask].tolist()
        columns[4] += stamps
        columns[5] += window[mask].tolist() if window is not None else [None] * count
        columns[6] += [5] * count if number == 1 else [None] * count
        columns[7] += ["业务需要"] * count if number in (1, 2) else [None] * count
        columns[8] += [f"{i:064x}" for i in event_ids]
        columns[9] += ["bench"] * count
        columns[10] += stamps
    return columns


def camera_rows(
    days: Days, rng: np.random.Generator, *, postgres: bool
) -> tuple[list[list[Any]], list[list[Any]]]:
    """Hourly visitor counts 09:00–17:00 and two presence intervals a day, for every window and working day."""
    window = np.repeat(np.arange(1, WINDOWS + 1), len(days.period) * 8)
    day = np.tile(np.repeat(days.period, 8), WINDOWS)
    hour = np.tile(np.arange(9, 17), WINDOWS * len(days.period))
    visits = rng.integers(1, 7, len(window))
    empty = rng.choice(len(window), EMPTY_HOURS, replace=False)
    visits[empty] = 0
    starts = _stamp(day, hour * 60, postgres=postgres)
    n = len(window)
    counts = [
        list(range(1, n + 1)),
        window.tolist(),
        starts,
        [0] * n,
        [1] * n,
        ["CAM"] * n,
        [f"v{i}" for i in range(n)],
        visits.tolist(),
        (visits * 300.0).tolist(),
        starts,
        ["live"] * n,
    ]
    p_window = np.repeat(np.arange(1, WINDOWS + 1), len(days.period) * 2)
    p_day = np.tile(np.repeat(days.period, 2), WINDOWS)
    p_start = np.tile(np.array([540, 810]), WINDOWS * len(days.period))
    p_seconds = np.where(p_start == 540, 10800.0, 14400.0)
    m = len(p_window)
    presence = [
        list(range(1, m + 1)),
        [1] * m,
        [f"p{i}" for i in range(m)],
        p_window.tolist(),
        ["CAM"] * m,
        _stamp(p_day, p_start, postgres=postgres),
        _stamp(p_day, p_start + (p_seconds // 60).astype(np.int64), postgres=postgres),
        p_seconds.tolist(),
        _stamp(p_day, p_start, postgres=postgres),
        ["live"] * m,
    ]
    return counts, presence


COUNT_COLUMNS = [
    "id",
    "window_id",
    "hour_start",
    "watched_from_second",
    "device_id",
    "camera",
    "observation_id",
    "visits",
    "seated_seconds",
    "updated_at",
    "origin",
]
PRESENCE_COLUMNS = [
    "id",
    "device_id",
    "observation_id",
    "window_id",
    "camera",
    "started_at",
    "ended_at",
    "seconds",
    "received_at",
    "origin",
]
