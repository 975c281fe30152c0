"""Benchmark: every open case's light as of one moment, in bulk SQL against one case at a time.

    .venv/bin/python -m bench.lights [--cases 1000000] [--pg-url URL] [--sample 2000] [--keep DIR]

Builds a fresh schema with the real migrations (SQLite in a temp file; PostgreSQL, when a URL is
given or HALLWATCH_BENCH_DATABASE_URL is set, in a dedicated `hallwatch_bench` database), loads a
small registry and N open cases, then times `count_lights` and materialising every (id, light)
pair with `iter_open_lights`, against a naive per-case loop over a sample whose lights must agree
with the bulk ones. Ends with `RESULT <name> <value> <unit> target=<target>` lines.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import ColumnElement, Engine, text
from sqlalchemy.orm import Session, lazyload, sessionmaker

from bench.common import count_label, load_average, scratch_postgres
from central.calendar.service import load_calendar
from central.cases.clock import frozen_remaining
from central.cases.lights import count_lights, iter_open_lights, light_expression, yellow_cutoff
from central.cases.models import Case
from central.cases.queries import _projection_view  # the per-case path of the case list
from central.core.clock import SHANGHAI, shanghai_date
from central.core.db import make_engine, make_session_factory
from central.core.migrate import upgrade
from central.profiles.assignment import hall_profile_keys, halls_by_profile
from central.registry.models import Department, Hall, Item, Region
from common.profiles.loader import DEFAULT_PROFILE_KEY, get_profile
from common.worktime import CalendarMissingError, WorkCalendar
from common.worktime.official import official_years

logger = logging.getLogger(__name__)

AS_OF = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
PG_DATABASE = "hallwatch_bench"
REPEATS, CHUNK, NULL = 3, 50_000, -999_999  # NULL: a missing date or number in generated columns
HALLS, DEPARTMENTS_PER_HALL, ITEMS_PER_DEPARTMENT, LEGAL_LIMIT = 20, 10, 5, 20
RUNNING = ["accepted", "undertaken", "reviewed", "approved"]
PAUSED = ["suspended", "awaiting_correction"]
UNSET = {"window_id", "staff_id", "applicant_name", "closed_on"}
COLUMNS = [column.name for column in Case.__table__.columns if column.name not in UNSET]
console = Console(stderr=True)


# -- data ---------------------------------------------------------------------------------------
def _item_promised(item_id: int) -> int:
    return 5 + (item_id * 7) % 16  # 5..20 working days


def insert_registry(factory: sessionmaker[Session]) -> None:
    """One province without a rule override (every hall runs the default profile), halls, departments, items."""
    departments = HALLS * DEPARTMENTS_PER_HALL
    with factory() as session:
        session.add(Region(id=1, code="510000", name="四川省", level="province"))
        session.add_all(
            Hall(id=h, code=f"H{h:03d}", name=f"政务服务中心{h}", region_id=1, level="county")
            for h in range(1, HALLS + 1)
        )
        session.add_all(
            Department(id=d, code=f"D{d:04d}", name=f"部门{d}", hall_id=(d - 1) // DEPARTMENTS_PER_HALL + 1)
            for d in range(1, departments + 1)
        )
        session.add_all(
            Item(
                id=i,
                code=f"I{i:05d}",
                name=f"事项{i}",
                department_id=(i - 1) // ITEMS_PER_DEPARTMENT + 1,
                legal_limit_days=LEGAL_LIMIT,
                promised_limit_days=_item_promised(i),
            )
            for i in range(1, departments * ITEMS_PER_DEPARTMENT + 1)
        )
        session.commit()


def _per_pair(fn: Callable[[date, int], int], start: np.ndarray, other: np.ndarray) -> np.ndarray:
    """fn over (ordinal, int) pairs, called once per distinct pair; NULL where start or other is NULL."""
    pairs, inverse = np.unique(np.stack([start, other], axis=1), axis=0, return_inverse=True)
    values = [NULL if NULL in (a, b) else fn(date.fromordinal(int(a)), int(b)) for a, b in pairs]
    return np.array(values, dtype=np.int64)[inverse.reshape(-1)]


def generate(n: int, calendar: WorkCalendar, as_of: date, seed: int = 20261127) -> dict[str, np.ndarray]:
    """N open cases as columns of the projection; dates as proleptic ordinals."""
    rng = np.random.default_rng(seed)
    today = as_of.toordinal()
    workdays = [d for d in range(today - 60, today + 1) if calendar.is_workday(date.fromordinal(d))]
    item = rng.integers(1, HALLS * DEPARTMENTS_PER_HALL * ITEMS_PER_DEPARTMENT + 1, n)
    department = (item - 1) // ITEMS_PER_DEPARTMENT + 1
    promised_limit = 5 + (item * 7) % 16  # == _item_promised
    roll = rng.random(n)
    received = roll < 0.005  # not yet accepted: no due dates, no light
    paused = (roll >= 0.005) & (roll < 0.055)
    unknown = (roll >= 0.055) & (roll < 0.065)  # both due dates need a year nobody entered
    accepted = np.where(received, NULL, rng.choice(workdays, n))
    extension = np.where(rng.random(n) < 0.02, rng.integers(1, 11, n), 0)

    def add(start: date, days: int) -> int:
        try:
            return calendar.add_workdays(start, days).toordinal()
        except CalendarMissingError:  # each due date is known or missing on its own
            return NULL

    start = np.where(unknown, NULL, accepted)
    dues = {
        key: _per_pair(add, start, limit + extension)
        for key, limit in (("promised", promised_limit), ("legal", LEGAL_LIMIT))
    }
    missing = ~received & ((dues["promised"] == NULL) | (dues["legal"] == NULL))
    paused &= (dues["promised"] != NULL) | (dues["legal"] != NULL)
    offset = (rng.random(n) * (today - accepted + 1)).astype(np.int64)
    since = np.where(paused, accepted + offset, NULL)

    def remaining(start: date, due: int) -> int:
        return frozen_remaining(calendar, start, date.fromordinal(due))

    status = np.where(paused, rng.choice(PAUSED, n), rng.choice(RUNNING, n))
    logger.info("generated %d cases: %d paused, %d calendar missing", n, paused.sum(), missing.sum())
    return {
        "id": np.arange(1, n + 1),
        "item_id": item,
        "hall_id": (department - 1) // DEPARTMENTS_PER_HALL + 1,
        "department_id": department,
        "promised_limit_days": promised_limit,
        "legal_limit_days": np.full(n, LEGAL_LIMIT),
        "status": np.where(received, "received", status).astype(object),
        "received": np.where(received, today, accepted),
        "accepted_on": accepted,
        "extension_days": extension,
        "promised_due_date": dues["promised"],
        "legal_due_date": dues["legal"],
        "paused_since": since,
        "paused_remaining_promised": _per_pair(remaining, since, dues["promised"]),
        "paused_remaining_legal": _per_pair(remaining, since, dues["legal"]),
        "calendar_missing": missing.astype(np.int64),
        "event_count": np.where(received, 1, 2 + paused + (extension > 0)),
    }


def pick_sample(data: dict[str, np.ndarray], size: int, calendar: WorkCalendar, as_of: date) -> list[int]:
    """Random case ids; up to a quarter from the edges of the cut-offs, where SQL and Python could part."""
    rng = np.random.default_rng(7)
    yellow = get_profile(DEFAULT_PROFILE_KEY).lights.yellow_remaining_workdays or 0
    today, cutoff = as_of.toordinal(), yellow_cutoff(calendar, as_of, yellow).toordinal()
    running, frozen = data["paused_since"] == NULL, data["paused_remaining_promised"]
    year_end = date(calendar.covered_years[-1], 12, 1).toordinal()
    edge = (
        (running & np.isin(data["promised_due_date"], [today - 1, today, today + 1, cutoff - 1, cutoff]))
        | (~running & (np.isin(frozen, [-1, 0, yellow, yellow + 1]) | (data["legal_due_date"] >= year_end)))
        | (data["calendar_missing"] == 1)
        | (data["accepted_on"] == NULL)
    )
    ids = data["id"]
    edges = rng.permutation(ids[edge])[: size // 4]
    rest = rng.choice(ids[~np.isin(ids, edges)], min(size, len(ids)) - len(edges), replace=False)
    return rng.permutation(np.concatenate([edges, rest])).tolist()  # type: ignore[no-any-return]


def _as_text(values: np.ndarray, fmt: Callable[[int], str]) -> list[Any]:
    """Format each distinct value once; None for NULL."""
    unique, inverse = np.unique(values, return_inverse=True)
    labels = np.array([None if v == NULL else fmt(int(v)) for v in unique], dtype=object)
    return labels[inverse.reshape(-1)].tolist()  # type: ignore[no-any-return]


def columns_for(data: dict[str, np.ndarray], *, postgres: bool) -> list[list[Any]]:
    """Columns in COLUMNS order: Python values for SQLite's executemany, COPY text for PostgreSQL."""
    stamp = "%Y-%m-%d 01:00:00+00" if postgres else "%Y-%m-%d 01:00:00.000000"  # 09:00 in Shanghai
    iso = lambda o: date.fromordinal(o).isoformat()  # noqa: E731
    received_at = _as_text(data["received"], lambda o: date.fromordinal(o).strftime(stamp))
    columns: dict[str, list[Any]] = {
        "case_no": [f"BENCH{i:09d}" for i in data["id"].tolist()],
        "status": data["status"].tolist(),
        "received_at": received_at,
        "last_event_at": received_at,
    }
    for key in ("accepted_on", "promised_due_date", "legal_due_date", "paused_since"):
        columns[key] = _as_text(data[key], iso)
    for key in ("paused_remaining_promised", "paused_remaining_legal"):
        columns[key] = [None if v == NULL else v for v in data[key].tolist()]
    ordered = [columns[c] if c in columns else data[c].tolist() for c in COLUMNS]
    if postgres:
        ordered = [["\\N" if v is None else str(v) for v in column] for column in ordered]
    return ordered


def load_cases(engine: Engine, data: dict[str, np.ndarray]) -> None:
    """Bulk load (COPY on PostgreSQL, one executemany transaction on SQLite), then ANALYZE."""
    n, postgres = len(data["id"]), engine.dialect.name == "postgresql"
    columns = columns_for(data, postgres=postgres)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with Progress(console=console) as progress:
            task = progress.add_task(f"loading {n:,} cases into {engine.dialect.name}", total=n)
            if postgres:
                copy_sql = f"COPY cases ({', '.join(COLUMNS)}) FROM STDIN"
                with raw.driver_connection.cursor() as pg, pg.copy(copy_sql) as copy:  # type: ignore[union-attr]
                    for start in range(0, n, CHUNK):
                        rows = zip(*(column[start : start + CHUNK] for column in columns), strict=True)
                        copy.write("\n".join(map("\t".join, rows)) + "\n")
                        progress.advance(task, min(CHUNK, n - start))
            else:
                cursor.execute("PRAGMA synchronous=OFF")  # generation only: the connection is disposed
                cursor.execute("PRAGMA cache_size=-262144")
                insert = f"INSERT INTO cases ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
                for start in range(0, n, CHUNK):
                    batch = list(zip(*(column[start : start + CHUNK] for column in columns), strict=True))
                    cursor.executemany(insert, batch)
                    progress.advance(task, min(CHUNK, n - start))
        raw.commit()
    finally:
        raw.close()
    engine.dispose()  # no generation connection (or its pragmas) survives into the measurement
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in ("VACUUM (ANALYZE) cases", "ANALYZE") if postgres else ("ANALYZE",):
            conn.execute(text(statement))
        if not postgres:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()


# -- measuring ----------------------------------------------------------------------------------
@dataclass
class Outcome:
    database: str
    n: int
    generate_s: float
    load_s: float
    count_s: list[float]
    fetch_s: list[float]
    naive_per_case_s: float
    sample: int
    mismatches: int
    counts: str
    load_avg: str

    @property
    def best(self) -> float:
        return min(self.fetch_s)

    @property
    def naive_total_s(self) -> float:
        return self.naive_per_case_s * self.n


def _light(session: Session, as_of: date) -> ColumnElement[str | None]:
    groups = halls_by_profile(session, default_key=DEFAULT_PROFILE_KEY)
    return light_expression(
        as_of=as_of, calendar=load_calendar(session), halls_by_profile=groups, default_key=DEFAULT_PROFILE_KEY
    )


def measure_bulk(
    factory: sessionmaker[Session], as_of: date
) -> tuple[list[float], list[float], dict[int, Any], str]:
    """Best of REPEATS: (a) count_lights, (b) build the expression and fetch every (id, light)."""
    count_s: list[float] = []
    fetch_s: list[float] = []
    pairs: list[tuple[int, str | None]] = []
    for _ in range(REPEATS):
        pairs = []  # free the previous million pairs before timing again
        with factory() as session:
            start = time.perf_counter()
            counts = count_lights(session, light=_light(session, as_of))
            count_s.append(time.perf_counter() - start)
        with factory() as session:
            start = time.perf_counter()
            pairs = list(iter_open_lights(session, light=_light(session, as_of)))
            fetch_s.append(time.perf_counter() - start)
    tally = Counter(light for _, light in pairs)
    if [tally[k] for k in ("green", "yellow", "red", None)] != [
        counts.green,
        counts.yellow,
        counts.red,
        counts.unknown,
    ]:
        logger.error("count_lights %s disagrees with iter_open_lights %s", counts, dict(tally))
    summary = f"G {counts.green:,} Y {counts.yellow:,} R {counts.red:,} ? {counts.unknown:,}"
    return count_s, fetch_s, dict(pairs), summary


def measure_naive(
    factory: sessionmaker[Session], ids: Sequence[int], as_of: date
) -> tuple[float, dict[int, tuple[str | None, Case]]]:
    """One SELECT per case, then the per-case computation in Python (the case list's own path)."""
    lights: dict[int, tuple[str | None, Case]] = {}
    with factory() as session:
        calendar = load_calendar(session)
        hall_keys = hall_profile_keys(session, default_key=DEFAULT_PROFILE_KEY)
        start = time.perf_counter()
        for case_id in ids:
            case = session.get(Case, case_id, options=[lazyload(Case.events)])
            assert case is not None
            profile = get_profile(hall_keys.get(case.hall_id, DEFAULT_PROFILE_KEY))
            light = _projection_view(case, as_of, calendar, profile).light
            lights[case_id] = (light.value if light else None, case)
        elapsed = time.perf_counter() - start
    return elapsed / max(len(ids), 1), lights


def compare(bulk: dict[int, str | None], naive: dict[int, tuple[str | None, Case]]) -> int:
    wrong = [(i, light, case) for i, (light, case) in naive.items() if bulk.get(i, "<absent>") != light]
    for case_id, light, c in wrong[:20]:
        console.print(
            f"[red]MISMATCH[/red] case {case_id}: bulk={bulk.get(case_id, '<absent>')} naive={light} "
            f"status={c.status} accepted={c.accepted_on} due={c.promised_due_date} legal={c.legal_due_date} "
            f"paused_since={c.paused_since} frozen={c.paused_remaining_promised}/{c.paused_remaining_legal} "
            f"calendar_missing={c.calendar_missing}"
        )
    if wrong:
        console.print(f"[red]{len(wrong)} of {len(naive)} sampled lights disagree[/red]")
    return len(wrong)


def run_database(url: str, n: int, sample: int, database: str) -> Outcome:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    insert_registry(factory)
    day, calendar = shanghai_date(AS_OF), WorkCalendar(official_years())
    start = time.perf_counter()
    with console.status(f"generating {n:,} cases"):
        data = generate(n, calendar, day)
    generate_s = time.perf_counter() - start
    start = time.perf_counter()
    load_cases(engine, data)
    load_s = time.perf_counter() - start
    logger.info("%s: generated in %.1f s, loaded in %.1f s", database, generate_s, load_s)
    ids = pick_sample(data, sample, calendar, day)
    del data
    count_s, fetch_s, bulk, counts = measure_bulk(factory, day)
    per_case, naive = measure_naive(factory, ids, day)
    mismatches = compare(bulk, naive)
    engine.dispose()
    load_avg = load_average()
    return Outcome(
        database, n, generate_s, load_s, count_s, fetch_s, per_case, len(ids), mismatches, counts, load_avg
    )


def run_postgres(url: str, n: int, sample: int, keep: bool) -> Outcome:
    """In a database of its own, created through the given server and dropped afterwards unless kept."""
    with scratch_postgres(url, PG_DATABASE, keep=keep) as bench_url:
        return run_database(bench_url, n, sample, "postgresql")


# -- output -------------------------------------------------------------------------------------
def report(outcomes: list[Outcome]) -> list[str]:
    table = Table(title=f"lights as of {AS_OF.isoformat()} ({DEFAULT_PROFILE_KEY}, all halls)")
    table.add_column("")
    for o in outcomes:
        table.add_column(o.database, justify="right")
    rows: list[tuple[str, Callable[[Outcome], str]]] = [
        ("open cases", lambda o: f"{o.n:,}"),
        ("generate / load s", lambda o: f"{o.generate_s:.1f} / {o.load_s:.1f}"),
        (
            "count_lights best / median s",
            lambda o: f"{min(o.count_s):.3f} / {statistics.median(o.count_s):.3f}",
        ),
        ("all lights best / median s", lambda o: f"{o.best:.3f} / {statistics.median(o.fetch_s):.3f}"),
        ("naive ms per case", lambda o: f"{o.naive_per_case_s * 1000:.3f}"),
        ("naive extrapolated s", lambda o: f"{o.naive_total_s:.1f}"),
        ("speedup (naive / best)", lambda o: f"{o.naive_total_s / o.best:.1f}x"),
        ("lights", lambda o: o.counts),
        ("sample mismatches", lambda o: f"{o.mismatches} / {o.sample}"),
        ("load average 1/5/15 min", lambda o: o.load_avg),
    ]
    for heading, cell in rows:
        table.add_row(heading, *(cell(o) for o in outcomes))
    Console(width=120).print(table)
    lines = []
    for o in outcomes:
        lines.append(f"RESULT lights_{count_label(o.n)}_{o.database}_seconds {o.best:.3f} s target=<=2")
        lines.append(
            f"RESULT lights_speedup_vs_naive_{o.database} {o.naive_total_s / o.best:.1f} x target=>=10"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lights", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get("HALLWATCH_BENCH_DATABASE_URL"))
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="keep the SQLite file here, and the PostgreSQL database")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger.info("load average at start: %s on %d CPUs", os.getloadavg(), os.cpu_count() or 0)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="hallwatch-bench-") as tmp:
        path = (args.keep or Path(tmp)) / "lights.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        outcomes.append(run_database(f"sqlite:///{path}", args.cases, args.sample, "sqlite"))
    if args.pg_url:
        outcomes.append(run_postgres(args.pg_url, args.cases, args.sample, keep=args.keep is not None))
    lines = report(outcomes)
    print("\n".join(lines), flush=True)
    return 1 if any(o.mismatches for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
