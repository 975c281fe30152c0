"""Benchmark: every open case's light as of one moment, in bulk SQL against one case at a time.

    .venv/bin/python -m bench.lights [--cases 1000000] [--pg-url URL] [--sample 2000] [--keep DIR]

Builds a fresh schema with the real migrations (SQLite in a temp file; PostgreSQL, when a URL is
given or HALLWATCH_BENCH_DATABASE_URL is set, in a dedicated `hallwatch_bench` database), loads a
small registry and N open cases, then times `count_lights` and materialising every (id, light)
pair with `iter_open_lights`, against a naive per-case loop over a random sample whose lights must
agree with the bulk ones. Ends with `RESULT <name> <value> <unit> target=<target>` lines.
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
from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from central.calendar.service import load_calendar
from central.cases.clock import DueDates, frozen_remaining, view_from_dues
from central.cases.lifecycle import CaseStatus
from central.cases.lights import count_lights, iter_open_lights, light_expression, yellow_cutoff
from central.cases.models import Case
from central.core.clock import SHANGHAI, shanghai_date
from central.core.db import make_engine, make_session_factory
from central.core.migrate import upgrade
from central.profiles.assignment import hall_profile_keys, halls_by_profile
from central.profiles.loader import DEFAULT_PROFILE_KEY, get_profile
from central.registry.models import Department, Hall, Item, Region
from central.worktime import CalendarMissingError, WorkCalendar
from central.worktime.official import official_years

logger = logging.getLogger(__name__)

AS_OF = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
PG_DATABASE = "hallwatch_bench"
REPEATS = 3
CHUNK = 50_000
HALLS, DEPARTMENTS_PER_HALL, ITEMS_PER_DEPARTMENT = 20, 10, 5
LEGAL_LIMIT = 20
RUNNING = ["accepted", "undertaken", "reviewed", "approved"]
PAUSED = ["suspended", "awaiting_correction"]
COLUMNS = (
    "id",
    "case_no",
    "item_id",
    "hall_id",
    "department_id",
    "promised_limit_days",
    "legal_limit_days",
    "status",
    "received_at",
    "accepted_on",
    "extension_days",
    "promised_due_date",
    "legal_due_date",
    "paused_since",
    "paused_remaining_promised",
    "paused_remaining_legal",
    "calendar_missing",
    "last_event_at",
    "event_count",
)
console = Console(stderr=True)


# -- data ---------------------------------------------------------------------------------------
def insert_registry(factory: sessionmaker[Session]) -> None:
    """One province (no rule override: every hall runs the default profile), halls, departments, items."""
    with factory() as session:
        session.add(Region(id=1, code="510000", name="四川省", level="province"))
        session.flush()
        session.add_all(
            Hall(id=h, code=f"H{h:03d}", name=f"政务服务中心{h}", region_id=1, level="county")
            for h in range(1, HALLS + 1)
        )
        session.flush()
        session.add_all(
            Department(id=d, code=f"D{d:04d}", name=f"部门{d}", hall_id=(d - 1) // DEPARTMENTS_PER_HALL + 1)
            for d in range(1, HALLS * DEPARTMENTS_PER_HALL + 1)
        )
        session.flush()
        session.add_all(
            Item(
                id=i,
                code=f"I{i:05d}",
                name=f"事项{i}",
                department_id=(i - 1) // ITEMS_PER_DEPARTMENT + 1,
                legal_limit_days=LEGAL_LIMIT,
                promised_limit_days=_item_promised(i),
            )
            for i in range(1, HALLS * DEPARTMENTS_PER_HALL * ITEMS_PER_DEPARTMENT + 1)
        )
        session.commit()


def _item_promised(item_id: int) -> int:
    return 5 + (item_id * 7) % 16  # 5..20


def _cached(fn: Callable[[int, int], int], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Apply fn to each (a, b) pair, calling it once per distinct pair."""
    pairs, inverse = np.unique(np.stack([a, b], axis=1), axis=0, return_inverse=True)
    values = np.array([fn(int(x), int(y)) for x, y in pairs], dtype=np.int64)
    return values[inverse.reshape(-1)]


def generate(n: int, calendar: WorkCalendar, as_of: date, seed: int = 20261127) -> dict[str, np.ndarray]:
    """N open cases as columns; dates as proleptic ordinals, -1 for NULL."""
    rng = np.random.default_rng(seed)
    today = as_of.toordinal()
    workdays = np.array([d for d in range(today - 60, today + 1) if calendar.is_workday(date.fromordinal(d))])
    n_items = HALLS * DEPARTMENTS_PER_HALL * ITEMS_PER_DEPARTMENT
    item = rng.integers(1, n_items + 1, n)
    department = (item - 1) // ITEMS_PER_DEPARTMENT + 1
    promised_limit = np.array([0] + [_item_promised(i) for i in range(1, n_items + 1)])[item]
    roll = rng.random(n)
    received = roll < 0.005  # not yet accepted: no due dates, no light
    paused = (roll >= 0.005) & (roll < 0.055)
    forced_missing = (roll >= 0.055) & (roll < 0.065)
    accepted = np.where(received, -1, rng.choice(workdays, n))
    extension = np.where(rng.random(n) < 0.02, rng.integers(1, 11, n), 0)

    def add(start: int, days: int) -> int:
        if start < 0:
            return -1
        try:
            return calendar.add_workdays(date.fromordinal(start), days).toordinal()
        except CalendarMissingError:
            return -2

    promised_due = _cached(add, accepted, promised_limit + extension)
    legal_due = _cached(add, accepted, LEGAL_LIMIT + extension)
    missing = forced_missing | (promised_due == -2) | (legal_due == -2)
    no_dues = received | missing
    promised_due[no_dues] = legal_due[no_dues] = -1
    paused &= ~no_dues
    since = np.where(paused, accepted + (rng.random(n) * (today - accepted + 1)).astype(np.int64), -1)

    def remaining(start: int, due: int) -> int:
        return frozen_remaining(calendar, date.fromordinal(start), date.fromordinal(due))

    rem_promised = np.full(n, -999, dtype=np.int64)
    rem_legal = np.full(n, -999, dtype=np.int64)
    rem_promised[paused] = _cached(remaining, since[paused], promised_due[paused])
    rem_legal[paused] = _cached(remaining, since[paused], legal_due[paused])
    status = np.where(
        received, "received", np.where(paused, rng.choice(PAUSED, n), rng.choice(RUNNING, n))
    ).astype(object)
    logger.info("generated %d cases: %d paused, %d calendar missing", n, paused.sum(), missing.sum())
    return {
        "id": np.arange(1, n + 1),
        "item_id": item,
        "hall_id": (department - 1) // DEPARTMENTS_PER_HALL + 1,
        "department_id": department,
        "promised_limit_days": promised_limit,
        "legal_limit_days": np.full(n, LEGAL_LIMIT),
        "status": status,
        "received": np.where(received, today, accepted),
        "accepted_on": accepted,
        "extension_days": extension,
        "promised_due_date": promised_due,
        "legal_due_date": legal_due,
        "paused_since": since,
        "paused_remaining_promised": rem_promised,
        "paused_remaining_legal": rem_legal,
        "calendar_missing": missing.astype(np.int64),
        "event_count": np.where(received, 1, 2 + paused + (extension > 0)),
    }


def pick_sample(data: dict[str, np.ndarray], size: int, calendar: WorkCalendar, as_of: date) -> list[int]:
    """Random case ids; up to a quarter drawn from the edges of the cut-offs, where SQL and Python may part."""
    rng = np.random.default_rng(7)
    yellow = get_profile(DEFAULT_PROFILE_KEY).lights.yellow_remaining_workdays or 0
    today, cutoff = as_of.toordinal(), yellow_cutoff(calendar, as_of, yellow).toordinal()
    running = data["paused_since"] < 0
    edge = (
        (running & np.isin(data["promised_due_date"], [today - 1, today, today + 1, cutoff - 1, cutoff]))
        | np.isin(data["paused_remaining_promised"], [-1, 0, yellow, yellow + 1])
        | (~running & (data["legal_due_date"] >= date(calendar.covered_years[-1], 12, 1).toordinal()))
        | (data["calendar_missing"] == 1)
        | (data["accepted_on"] < 0)
    )
    ids = data["id"]
    edges = rng.permutation(ids[edge])[: size // 4]
    rest = rng.choice(ids[~np.isin(ids, edges)], min(size, len(ids)) - len(edges), replace=False)
    return rng.permutation(np.concatenate([edges, rest])).tolist()  # type: ignore[no-any-return]


def _dates(ordinals: np.ndarray, fmt: Callable[[date], str]) -> list[Any]:
    unique, inverse = np.unique(ordinals, return_inverse=True)
    labels = np.array([None if o < 0 else fmt(date.fromordinal(int(o))) for o in unique], dtype=object)
    return labels[inverse.reshape(-1)].tolist()  # type: ignore[no-any-return]


def rows_columns(data: dict[str, np.ndarray], *, postgres: bool) -> list[list[Any]]:
    """Column lists in COLUMNS order: Python values for SQLite, COPY text for PostgreSQL."""
    stamp = "%Y-%m-%d 01:00:00+00" if postgres else "%Y-%m-%d 01:00:00.000000"  # 09:00 Shanghai
    received_at = _dates(data["received"], lambda d: d.strftime(stamp))
    ints = lambda key: data[key].tolist()  # noqa: E731
    nullable = lambda key: np.where(data[key] == -999, None, data[key]).tolist()  # noqa: E731
    columns: dict[str, list[Any]] = {
        "case_no": [f"BENCH{i:09d}" for i in data["id"].tolist()],
        "status": data["status"].tolist(),
        "received_at": received_at,
        "last_event_at": received_at,
        "paused_remaining_promised": nullable("paused_remaining_promised"),
        "paused_remaining_legal": nullable("paused_remaining_legal"),
    }
    for key in ("accepted_on", "promised_due_date", "legal_due_date", "paused_since"):
        columns[key] = _dates(data[key], date.isoformat)
    ordered = [columns[c] if c in columns else ints(c) for c in COLUMNS]
    if postgres:
        ordered = [["\\N" if v is None else str(v) for v in col] for col in ordered]
    return ordered


def load_cases(engine: Engine, data: dict[str, np.ndarray]) -> None:
    n = len(data["id"])
    postgres = engine.dialect.name == "postgresql"
    columns = rows_columns(data, postgres=postgres)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with Progress(console=console, transient=False) as progress:
            task = progress.add_task(f"loading cases into {engine.dialect.name}", total=n)
            if postgres:
                with (
                    raw.driver_connection.cursor() as pg,
                    pg.copy(  # type: ignore[union-attr]
                        f"COPY cases ({', '.join(COLUMNS)}) FROM STDIN"
                    ) as copy,
                ):
                    for start in range(0, n, CHUNK):
                        chunk = zip(*(col[start : start + CHUNK] for col in columns), strict=True)
                        copy.write("\n".join(map("\t".join, chunk)) + "\n")
                        progress.advance(task, min(CHUNK, n - start))
            else:
                cursor.execute("PRAGMA synchronous=OFF")  # generation only: this connection is disposed
                cursor.execute("PRAGMA cache_size=-262144")
                sql = f"INSERT INTO cases ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
                for start in range(0, n, CHUNK):
                    cursor.executemany(
                        sql, zip(*(col[start : start + CHUNK] for col in columns), strict=True)
                    )
                    progress.advance(task, min(CHUNK, n - start))
        raw.commit()
    finally:
        raw.close()
    engine.dispose()  # drop the generation connection (and its pragmas) before measuring
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if postgres:
            conn.execute(text("VACUUM (ANALYZE) cases"))
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
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


def _light(session: Session, as_of: date) -> Any:
    calendar = load_calendar(session)
    groups = halls_by_profile(session, default_key=DEFAULT_PROFILE_KEY)
    return light_expression(
        as_of=as_of, calendar=calendar, halls_by_profile=groups, default_key=DEFAULT_PROFILE_KEY
    )


def measure_bulk(
    factory: sessionmaker[Session], as_of: date
) -> tuple[list[float], list[float], list[tuple[int, str | None]], str]:
    count_s: list[float] = []
    fetch_s: list[float] = []
    pairs: list[tuple[int, str | None]] = []
    counts = None
    for _ in range(REPEATS):
        pairs = []  # free the previous run's million rows before timing again
        with factory() as session:
            start = time.perf_counter()
            counts = count_lights(session, light=_light(session, as_of))
            count_s.append(time.perf_counter() - start)
        with factory() as session:
            start = time.perf_counter()
            pairs = list(iter_open_lights(session, light=_light(session, as_of)))
            fetch_s.append(time.perf_counter() - start)
    assert counts is not None
    tally = Counter(light for _, light in pairs)
    listed = (tally["green"], tally["yellow"], tally["red"], tally[None])
    if listed != (counts.green, counts.yellow, counts.red, counts.unknown):
        logger.error("count_lights %s disagrees with iter_open_lights %s", counts, listed)
    return (
        count_s,
        fetch_s,
        pairs,
        f"G {counts.green} / Y {counts.yellow} / R {counts.red} / ? {counts.unknown}",
    )


def measure_naive(
    factory: sessionmaker[Session], ids: Sequence[int], as_of: date
) -> tuple[float, dict[int, str | None]]:
    """One SELECT per case, then the per-case pure computation in Python (as `_projection_view`)."""
    query = select(
        Case.hall_id,
        Case.status,
        Case.closed_on,
        Case.calendar_missing,
        Case.promised_due_date,
        Case.legal_due_date,
        Case.paused_since,
        Case.paused_remaining_promised,
        Case.paused_remaining_legal,
    ).where(Case.id == bindparam("case_id"))
    lights: dict[int, str | None] = {}
    with factory() as session:
        calendar = load_calendar(session)
        hall_keys = hall_profile_keys(session, default_key=DEFAULT_PROFILE_KEY)
        start = time.perf_counter()
        for case_id in ids:
            row = session.execute(query, {"case_id": case_id}).one()
            light = None
            if not row.calendar_missing and row.promised_due_date and row.legal_due_date:
                dues = DueDates(
                    promised=row.promised_due_date,
                    legal=row.legal_due_date,
                    paused_since=row.paused_since,
                    paused_remaining_promised=row.paused_remaining_promised,
                    paused_remaining_legal=row.paused_remaining_legal,
                )
                rules = get_profile(hall_keys.get(row.hall_id, DEFAULT_PROFILE_KEY)).lights
                view = view_from_dues(
                    status=CaseStatus(row.status),
                    closed_on=row.closed_on,
                    dues=dues,
                    calendar=calendar,
                    as_of=as_of,
                    rules=rules,
                )
                light = view.light.value if view.light else None
            lights[case_id] = light
        elapsed = time.perf_counter() - start
    return elapsed / max(len(ids), 1), lights


def compare(
    factory: sessionmaker[Session],
    ids: Sequence[int],
    bulk: dict[int, str | None],
    naive: dict[int, str | None],
) -> int:
    wrong = [i for i in ids if bulk.get(i, "<absent>") != naive[i]]
    if wrong:
        with factory() as session:
            for case_id in wrong[:20]:
                case = session.get(Case, case_id)
                assert case is not None
                console.print(
                    f"[red]MISMATCH[/red] case {case_id}: bulk={bulk.get(case_id, '<absent>')} "
                    f"naive={naive[case_id]} status={case.status} due={case.promised_due_date} "
                    f"legal={case.legal_due_date} paused_since={case.paused_since} "
                    f"frozen={case.paused_remaining_promised}/{case.paused_remaining_legal} "
                    f"missing={case.calendar_missing}"
                )
        console.print(f"[red]{len(wrong)} of {len(ids)} sampled lights disagree[/red]")
    return len(wrong)


def run_database(url: str, n: int, sample: int, database: str) -> Outcome:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    insert_registry(factory)
    day = shanghai_date(AS_OF)
    start = time.perf_counter()
    data = generate(n, WorkCalendar(official_years()), day)
    generate_s = time.perf_counter() - start
    start = time.perf_counter()
    load_cases(engine, data)
    load_s = time.perf_counter() - start
    ids = pick_sample(data, sample, WorkCalendar(official_years()), day)
    del data
    logger.info("%s: generated in %.1f s, loaded in %.1f s", database, generate_s, load_s)
    count_s, fetch_s, pairs, counts = measure_bulk(factory, day)
    per_case, naive = measure_naive(factory, ids, day)
    wanted = set(ids)
    bulk = {case_id: light for case_id, light in pairs if case_id in wanted}
    del pairs
    mismatches = compare(factory, ids, bulk, naive)
    engine.dispose()
    return Outcome(
        database=database,
        n=n,
        generate_s=generate_s,
        load_s=load_s,
        count_s=count_s,
        fetch_s=fetch_s,
        naive_per_case_s=per_case,
        sample=len(ids),
        mismatches=mismatches,
        counts=counts,
        load_avg=" ".join(f"{x:.2f}" for x in os.getloadavg()),
    )


def run_postgres(url: str, n: int, sample: int, keep: bool) -> Outcome:
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
    bench_url = make_url(url).set(database=PG_DATABASE).render_as_string(hide_password=False)
    try:
        return run_database(bench_url, n, sample, "postgresql")
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
        admin.dispose()


# -- output -------------------------------------------------------------------------------------
def _label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def report(outcomes: list[Outcome]) -> list[str]:
    table = Table(title=f"lights as of {AS_OF.isoformat()} ({DEFAULT_PROFILE_KEY})")
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
        ("speedup", lambda o: f"{o.naive_total_s / o.best:.1f}x"),
        ("lights", lambda o: o.counts),
        ("sample mismatches", lambda o: f"{o.mismatches} / {o.sample}"),
        ("load average (1/5/15 min)", lambda o: o.load_avg),
    ]
    for heading, cell in rows:
        table.add_row(heading, *(cell(o) for o in outcomes))
    Console(width=120).print(table)
    lines = []
    for o in outcomes:
        lines.append(f"RESULT lights_{_label(o.n)}_{o.database}_seconds {o.best:.3f} s target=<=2")
        speedup = o.naive_total_s / o.best
        lines.append(f"RESULT lights_speedup_vs_naive_{o.database} {speedup:.1f} x target=>=10")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lights", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get("HALLWATCH_BENCH_DATABASE_URL"))
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="keep the SQLite file here and the PostgreSQL database")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger.info("load average at start: %s (%d CPUs)", os.getloadavg(), os.cpu_count() or 0)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="hallwatch-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "lights.sqlite3"
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        outcomes.append(run_database(f"sqlite:///{path}", args.cases, args.sample, "sqlite"))
    if args.pg_url:
        outcomes.append(run_postgres(args.pg_url, args.cases, args.sample, keep=args.keep is not None))
    lines = report(outcomes)
    sys.stdout.flush()
    print("\n".join(lines), flush=True)
    return 1 if any(o.mismatches for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
