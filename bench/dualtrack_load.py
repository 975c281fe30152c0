"""Loading the dual-track benchmark's generated data: a registry of N windows, earlier judged days (the
baseline), and whole days of visitor counts, cases and case events. COPY on PostgreSQL, one
executemany transaction on SQLite; explicit ids (nothing else inserts into these tables)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from typing import Any

import numpy as np
from sqlalchemy import Engine, text

from bench.dualtrack_days import HOURS
from bench.dualtrack_visits import VISIT_MIN_SECONDS, VisitDay
from central.core.clock import SHANGHAI

logger = logging.getLogger(__name__)

WINDOWS_PER_HALL, WINDOWS_PER_DEPARTMENT = 50, 10
CHUNK = 50_000
HASH = "0" * 64


def copy_rows(engine: Engine, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Bulk insert: COPY text on PostgreSQL (None → \\N), executemany on SQLite."""
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        if postgres:
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with raw.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
                for start in range(0, len(rows), CHUNK):
                    lines = (
                        "\t".join("\\N" if v is None else str(v) for v in row)
                        for row in rows[start : start + CHUNK]
                    )
                    copy.write("\n".join(lines) + "\n")
        else:
            cursor = raw.cursor()
            cursor.execute("PRAGMA synchronous=OFF")  # generation only
            insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for start in range(0, len(rows), CHUNK):
                cursor.executemany(insert, rows[start : start + CHUNK])
        raw.commit()
    finally:
        raw.close()


def _stamp(moment: datetime, *, postgres: bool) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S+00") if postgres else utc.strftime("%Y-%m-%d %H:%M:%S.%f")


def load_registry(engine: Engine, windows: int) -> None:
    """A province, halls of 50 windows, a department (and one item) per 10 windows, a camera agent per hall."""
    halls = -(-windows // WINDOWS_PER_HALL)
    departments = -(-windows // WINDOWS_PER_DEPARTMENT)
    copy_rows(engine, "regions", ["id", "code", "name", "level"], [[1, "510000", "四川省", "province"]])
    copy_rows(
        engine,
        "halls",
        ["id", "code", "name", "region_id", "level"],
        [[h, f"H{h:04d}", f"政务服务中心{h}", 1, "county"] for h in range(1, halls + 1)],
    )
    copy_rows(
        engine,
        "departments",
        ["id", "code", "name", "hall_id"],
        [
            [d, f"D{d:05d}", f"部门{d}", (d - 1) * WINDOWS_PER_DEPARTMENT // WINDOWS_PER_HALL + 1]
            for d in range(1, departments + 1)
        ],
    )
    copy_rows(
        engine,
        "items",
        ["id", "code", "name", "department_id", "legal_limit_days", "promised_limit_days", "fee"],
        [[d, f"I{d:05d}", f"事项{d}", d, 20, 10, 0] for d in range(1, departments + 1)],
    )
    copy_rows(
        engine,
        "windows",
        ["id", "code", "name", "hall_id", "department_id"],
        [
            [
                w,
                f"W{w:05d}",
                f"{w}号窗口",
                (w - 1) // WINDOWS_PER_HALL + 1,
                (w - 1) // WINDOWS_PER_DEPARTMENT + 1,
            ]
            for w in range(1, windows + 1)
        ],
    )
    copy_rows(
        engine,
        "devices",
        ["id", "code", "kind", "name", "hall_id"],
        [[h, f"EDGE-{h:04d}", "edge", f"边缘盒{h}", h] for h in range(1, halls + 1)],
    )


def load_history(
    engine: Engine, days: list[tuple[date, np.ndarray, np.ndarray]], *, method: str, now: datetime
) -> None:
    """Earlier days as the judgement would have left them: a run per day and one clear judgement per
    window with its visits and excess under `method` (what the baseline reads); hours left empty,
    which no later judgement reads. `days`: (day, visits per window, excess per window)."""
    postgres = engine.dialect.name == "postgresql"
    stamp = _stamp(now, postgres=postgres)
    runs, rows = [], []
    ids = count(1)
    n = len(days[0][1]) if days else 0
    for run_id, (day, visits, excess) in enumerate(days, start=1):
        runs.append([run_id, day.isoformat(), "bench", stamp, stamp, n, 0, 0, 0])
        for w in range(n):
            v, e = int(visits[w]), int(excess[w])
            rows.append(
                [
                    next(ids),
                    run_id,
                    day.isoformat(),
                    w + 1,
                    (w) // WINDOWS_PER_HALL + 1,
                    w // WINDOWS_PER_DEPARTMENT + 1,
                    "sichuan-2011",
                    "clear",
                    method,
                    v,
                    v - e,
                    e,
                    0.0,
                    0.0,
                    0.0,
                    "allowance",
                    0,
                    None,
                    None,
                    None,
                    len(HOURS),
                    "[]",
                    "[]",
                    "[]",
                    "[]",
                    None,
                    stamp,
                ]
            )
    copy_rows(
        engine,
        "dualtrack_runs",
        ["id", "day", "instance", "started_at", "finished_at", "windows", "flagged", "low_volume", "signals"],
        runs,
    )
    copy_rows(
        engine,
        "dualtrack_judgements",
        [
            "id",
            "run_id",
            "day",
            "window_id",
            "hall_id",
            "department_id",
            "profile_key",
            "outcome",
            "method",
            "visits",
            "cases",
            "excess",
            "expected",
            "baseline_share",
            "baseline_spread",
            "baseline_source",
            "baseline_days",
            "z",
            "critical",
            "z_rest",
            "hours_counted",
            "hours",
            "hours_over",
            "why",
            "evidence_ids",
            "signal_id",
            "computed_at",
        ],
        rows,
    )
    if postgres:  # the judgement inserts its own rows after these
        with engine.begin() as conn:
            for table in ("dualtrack_runs", "dualtrack_judgements"):
                conn.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))


def load_day(engine: Engine, day: date, generated: VisitDay, *, first_case: int, day_index: int) -> int:
    """The day's visitor counts per window and hour, each with its visits' spans as the edge reports
    them (every opening hour, and any other hour with a visit), and one case with one event per
    recorded case at its entry second; returns the next free case id."""
    postgres = engine.dialect.name == "postgresql"
    midnight = datetime.combine(day, time(0), SHANGHAI)
    spans: dict[tuple[int, int], list[int]] = {
        (w, int(h)): [] for w in range(generated.windows) for h in HOURS
    }
    for w, start, seconds in zip(
        generated.visit_window.tolist(),
        generated.visit_start.tolist(),
        generated.visit_seconds.tolist(),
        strict=True,
    ):
        spans.setdefault((w, start // 3600), []).extend((start % 3600, seconds))
    counts: list[list[object]] = []
    first_id = day_index * 24 * generated.windows + 1
    for (w, hour), flat in sorted(spans.items()):
        at = _stamp(midnight + timedelta(hours=hour), postgres=postgres)
        counts.append(
            [
                first_id + len(counts),
                w + 1,
                at,
                0,
                w // WINDOWS_PER_HALL + 1,
                "cam-1",
                f"b{day:%m%d}:{w}:{hour}",
                sum(1 for seconds in flat[1::2] if seconds >= VISIT_MIN_SECONDS),
                float(min(sum(flat[1::2]), 3600)),
                at,
                "live",
                json.dumps(flat, separators=(",", ":")),
            ]
        )
    copy_rows(
        engine,
        "video_visitor_counts",
        [
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
            "spans",
        ],
        counts,
    )
    cases, events = [], []
    case_id = first_case
    false = "f" if postgres else 0
    for w, second in zip(generated.case_window.tolist(), generated.case_second.tolist(), strict=True):
        department = w // WINDOWS_PER_DEPARTMENT + 1
        at = _stamp(midnight + timedelta(seconds=second), postgres=postgres)
        cases.append(
            [
                case_id,
                f"B{day:%m%d}{case_id:09d}",
                department,
                w // WINDOWS_PER_HALL + 1,
                department,
                w + 1,
                10,
                20,
                "accepted",
                0,
                false,
                at,
                1,
            ]
        )
        events.append([case_id, f"b-{case_id}", case_id, "accepted", at, w + 1, HASH, "bench", at])
        case_id += 1
    copy_rows(
        engine,
        "cases",
        [
            "id",
            "case_no",
            "item_id",
            "hall_id",
            "department_id",
            "window_id",
            "promised_limit_days",
            "legal_limit_days",
            "status",
            "extension_days",
            "calendar_missing",
            "last_event_at",
            "event_count",
        ],
        cases,
    )
    copy_rows(
        engine,
        "case_events",
        ["id", "event_id", "case_id", "type", "at", "window_id", "content_hash", "source", "recorded_at"],
        events,
    )
    logger.info("%s: %d visitor-count rows, %d cases", day, len(counts), len(cases))
    return case_id


def analyze(engine: Engine) -> None:
    engine.dispose()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()


__all__ = ["analyze", "copy_rows", "load_day", "load_history", "load_registry"]
