"""Benchmark: data supervision's anomaly rules (SC-6(2), issue 18) over a million cases.

    .venv/bin/python -m bench.supervision_anomalies [--cases 1000000] [--pg-url URL] [--keep DIR]

Builds a fresh schema with the real migrations (SQLite in a temp file; PostgreSQL, when a URL is
given or HALLWATCH_BENCH_DATABASE_URL is set, in a dedicated database), loads the case log of
`bench.supervision_data` (six months, N cases with their events, the cameras' counts and presence),
then times `central.anomalies.run.run_anomalies` over the whole six months — every rule, the hits
stored, the run recorded and committed — and runs it again (nothing new may be added: idempotent).
Checks every planted anomaly was found. Ends with `RESULT <name> <value> <unit> target=<target>`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, select, text

from bench import supervision_data as data
from bench.common import count_label, load_average, machine_speed_ms, scratch_postgres
from central.anomalies.models import AnomalyHit
from central.anomalies.run import RunReport, run_anomalies
from central.core.actor import Actor
from central.core.db import make_engine, make_session_factory
from central.core.migrate import upgrade
from common.profiles.loader import DEFAULT_PROFILE_KEY
from common.worktime import WorkCalendar
from common.worktime.official import official_years

logger = logging.getLogger(__name__)
console = Console(stderr=True)
PG_DATABASE = "hallwatch_bench_anomalies"
TARGET_SECONDS = 10
NOW = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)


@dataclass
class Outcome:
    database: str
    cases: int
    events: int
    load_s: float
    first: RunReport
    again: RunReport
    missed: list[str]
    load_avg: str


def load(engine: Engine, table: str, names: list[str], columns: list[list[Any]]) -> None:
    """COPY on PostgreSQL, one executemany transaction on SQLite."""
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        n = len(columns[0])
        if postgres:
            driver = raw.driver_connection
            assert driver is not None
            copy_sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
            with driver.cursor() as pg, pg.copy(copy_sql) as copy:
                for start in range(0, n, data.CHUNK):
                    for row in zip(*(c[start : start + data.CHUNK] for c in columns), strict=True):
                        copy.write_row(row)
        else:
            cursor = raw.cursor()
            cursor.execute("PRAGMA synchronous=OFF")
            insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            for start in range(0, n, data.CHUNK):
                cursor.executemany(
                    insert, list(zip(*(c[start : start + data.CHUNK] for c in columns), strict=True))
                )
        raw.commit()
    finally:
        raw.close()


def device(engine: Engine) -> None:
    """The one edge box every window's counts name (the foreign key needs a device)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO devices (id, code, kind, name, hall_id) VALUES (1, 'EDGE', 'edge', '边缘主机', 1)"
            )
        )


def analyse(engine: Engine) -> None:
    """Statistics for the planner; on PostgreSQL a VACUUM too, as autovacuum would have done to a
    live database (freshly copied rows would otherwise get their hint bits set by the first run)."""
    engine.dispose()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()


def build(url: str, n: int) -> tuple[int, int, data.Planted, float]:
    engine = make_engine(url)
    upgrade(engine)
    postgres = engine.dialect.name == "postgresql"
    started = time.perf_counter()
    rng = np.random.default_rng(20261102)
    days = data.Days(WorkCalendar(official_years()))
    data.registry(engine)
    device(engine)
    with console.status(f"generating {n:,} cases"):
        generated, planted = data.generate_cases(n, days, rng)
    cases = len(generated["item"])
    with console.status(f"loading {cases:,} cases into {engine.dialect.name}"):
        load(engine, "cases", data.CASE_COLUMNS, data.case_rows(generated, postgres=postgres))
    with console.status("loading their events"):
        events = data.event_rows(generated, postgres=postgres)
        load(engine, "case_events", data.EVENT_COLUMNS, events)
    del generated
    with console.status("loading the cameras' counts and presence"):
        counts, presence = data.camera_rows(days, rng, postgres=postgres)
        load(engine, "video_visitor_counts", data.COUNT_COLUMNS, counts)
        load(engine, "video_presence", data.PRESENCE_COLUMNS, presence)
    analyse(engine)
    return cases, len(events[0]), planted, time.perf_counter() - started


def missed(url: str, planted: data.Planted) -> list[str]:
    """Each planted anomaly the stored hits do not show."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        hits = session.execute(select(AnomalyHit.rule, AnomalyHit.item_id, AnomalyHit.department_id)).all()
    engine.dispose()
    found: dict[str, set[int | None]] = {}
    for rule, item_id, department_id in hits:
        found.setdefault(rule, set()).add(item_id if rule == "item_pace" else department_id)
    wrong = [f"item_pace: item {i}" for i in planted.fast_items if i not in found.get("item_pace", set())]
    wrong += [
        f"due_date_bunching: department {d}"
        for d in planted.bunching_departments
        if d not in found.get("due_date_bunching", set())
    ]
    wrong += [
        f"idle_department: department {d}"
        for d in planted.idle_departments
        if d not in found.get("idle_department", set())
    ]
    counted = {rule: sum(1 for r, *_ in hits if r == rule) for rule in found}
    for rule, least in (
        ("pause_before_due", planted.pauses_before_due),
        ("outside_hours", 1),
        ("unseen_acceptance", 1),
    ):
        if counted.get(rule, 0) < least:
            wrong.append(f"{rule}: {counted.get(rule, 0)} hit(s), planted {least}")
    planted.counts = counted
    return wrong


def measure(url: str, database: str, n: int) -> Outcome:
    cases, events, planted, load_s = build(url, n)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    calendar = WorkCalendar(official_years())
    reports = []
    for _ in range(2):
        with factory() as session:
            reports.append(
                run_anomalies(
                    session,
                    period_from=data.FIRST,
                    period_to=data.LAST,
                    now=NOW,
                    calendar=calendar,
                    default_profile_key=DEFAULT_PROFILE_KEY,
                    instance="bench",
                    actor=Actor(kind="cli", name="bench"),
                )
            )
    engine.dispose()
    return Outcome(
        database, cases, events, load_s, reports[0], reports[1], missed(url, planted), load_average()
    )


def report(outcomes: list[Outcome], n: int) -> list[str]:
    table = Table(title=f"anomaly rules over {data.FIRST} … {data.LAST} ({DEFAULT_PROFILE_KEY})")
    table.add_column("")
    for o in outcomes:
        table.add_column(o.database, justify="right")
    rows = [
        ("cases / events", lambda o: f"{o.cases:,} / {o.events:,}"),
        ("generate + load s", lambda o: f"{o.load_s:.1f}"),
        ("first run s (hits stored)", lambda o: f"{o.first.seconds:.2f}"),
        ("second run s (idempotent)", lambda o: f"{o.again.seconds:.2f}"),
        ("hits / new on rerun", lambda o: f"{o.first.found:,} / {o.again.added}"),
        *[(f"  {code}", lambda o, c=code: f"{o.first.by_rule[c]:,}") for code in outcomes[0].first.by_rule],
        ("planted anomalies missed", lambda o: str(len(o.missed))),
        ("load average 1/5/15 min", lambda o: o.load_avg),
    ]
    for heading, cell in rows:
        table.add_row(heading, *(cell(o) for o in outcomes))  # type: ignore[no-untyped-call]
    Console(width=120).print(table)
    for o in outcomes:
        for line in o.missed:
            console.print(f"[red]MISSED[/red] {o.database}: {line}")
        if o.again.added:
            console.print(f"[red]NOT IDEMPOTENT[/red] {o.database}: the rerun added {o.again.added} hit(s)")
    lines = [
        f"RESULT anomaly_rules_{count_label(n)}_{o.database}_seconds {max(o.first.seconds, o.again.seconds):.2f} s "
        f"target=<={TARGET_SECONDS}"
        for o in outcomes
    ]
    worst = max(max(o.first.seconds, o.again.seconds) for o in outcomes)
    lines.append(f"RESULT anomaly_rules_seconds {worst:.2f} s target=<={TARGET_SECONDS}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.supervision_anomalies", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get("HALLWATCH_BENCH_DATABASE_URL"))
    parser.add_argument("--keep", type=Path, help="keep the SQLite file here, and the PostgreSQL database")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger.info(
        "load average %s on %d CPUs; machine speed %.0f ms",
        os.getloadavg(),
        os.cpu_count() or 0,
        machine_speed_ms(),
    )
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="hallwatch-bench-") as tmp:
        path = (args.keep or Path(tmp)) / "anomalies.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        outcomes.append(measure(f"sqlite:///{path}", "sqlite", args.cases))
    if args.pg_url:
        with scratch_postgres(args.pg_url, PG_DATABASE, keep=args.keep is not None) as url:
            outcomes.append(measure(url, "postgresql", args.cases))
    lines = report(outcomes, args.cases)
    print("\n".join(lines), flush=True)
    return 1 if any(o.missed or o.again.added for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
