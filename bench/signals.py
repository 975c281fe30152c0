"""Benchmark: the signal scheduler over a million open cases, and audit verify over a million entries.

    .venv/bin/python -m bench.signals [--cases 1000000] [--audit-entries 1000000] [--pg-url URL] [--keep]

Builds a fresh schema with the real migrations (SQLite in a temp file; PostgreSQL, when a URL is
given or HALLWATCH_BENCH_DATABASE_URL is set, in a dedicated `hallwatch_bench_signals` database),
loads bench.lights' registry and N open cases, puts half the halls under a region that runs the
Shenzhen profile (green warnings on the due date, SZ-10), then times `run_signals` as of one moment:
the first run (every light signal issued), a second run at the same moment (steady state: nothing
new) and a run two working days later (yellows escalated, new lights issued). Audit verify is
timed by bench.audit's own functions on a chain of its own. Ends with
`RESULT <name> <value> <unit> target=<target>` lines.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bench import audit as audit_bench
from bench.common import count_label, load_average, scratch_postgres
from bench.lights import AS_OF, HALLS, generate, insert_registry, load_cases
from central.app import SIGNAL_SOURCES
from central.core.clock import SHANGHAI, shanghai_date
from central.core.db import make_engine, make_session_factory
from central.core.migrate import upgrade
from central.registry.models import Hall, Region
from central.signals.models import Signal
from central.signals.scheduler import RunSummary, run_signals
from common.profiles.loader import DEFAULT_PROFILE_KEY
from common.worktime import WorkCalendar
from common.worktime.official import official_years

logger = logging.getLogger(__name__)

PG_DATABASE = "hallwatch_bench_signals"
SHENZHEN_HALLS = range(HALLS // 2 + 1, HALLS + 1)
console = Console(stderr=True)


@dataclass
class Outcome:
    database: str
    n: int
    load_s: float
    runs: dict[str, tuple[float, RunSummary]] = field(default_factory=dict)
    signals: int = 0
    audit_verify_s: float | None = None
    load_avg: str = ""

    @property
    def first_s(self) -> float:
        return self.runs["first"][0]


def _shenzhen_region(factory: sessionmaker[Session]) -> None:
    """A region overriding the deployment profile for the upper half of the halls."""
    with factory() as session:
        session.add(
            Region(
                id=2, code="510199", name="示范区", level="city", parent_id=1, rule_profile="shenzhen-2007"
            )
        )
        session.flush()
        session.execute(update(Hall).where(Hall.id.in_(list(SHENZHEN_HALLS))).values(region_id=2))
        session.commit()


def _timed_run(
    factory: sessionmaker[Session], calendar: WorkCalendar, now: datetime
) -> tuple[float, RunSummary]:
    with factory() as session:
        start = time.perf_counter()
        summary = run_signals(
            session,
            now=now,
            calendar=calendar,
            default_profile=DEFAULT_PROFILE_KEY,
            instance="bench",
            sources=SIGNAL_SOURCES,  # the same pass as serve's
        )
        return time.perf_counter() - start, summary


def run_database(url: str, n: int, database: str) -> Outcome:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    insert_registry(factory)
    _shenzhen_region(factory)
    calendar = WorkCalendar(official_years())
    start = time.perf_counter()
    with console.status(f"generating {n:,} cases"):
        data = generate(n, calendar, shanghai_date(AS_OF))
    load_cases(engine, data)
    del data
    outcome = Outcome(database, n, time.perf_counter() - start)
    later = datetime.combine(calendar.add_workdays(shanghai_date(AS_OF), 2), clock_time(10), SHANGHAI)
    moments = {"first": AS_OF, "steady": AS_OF.replace(minute=5), "two workdays later": later}
    for name, moment in moments.items():
        outcome.runs[name] = _timed_run(factory, calendar, moment)
        logger.info("%s %s run: %.2f s, %s", database, name, outcome.runs[name][0], outcome.runs[name][1])
    with factory() as session:
        outcome.signals = session.scalar(select(func.count(Signal.id))) or 0
    engine.dispose()
    outcome.load_avg = load_average()
    return outcome


def run_postgres(url: str, n: int, keep: bool) -> Outcome:
    """In a database of its own, created through the given server and dropped afterwards unless kept."""
    with scratch_postgres(url, PG_DATABASE, keep=keep) as bench_url:
        return run_database(bench_url, n, "postgresql")


def audit_verify_seconds(database: str, entries: int, pg_url: str | None, keep: bool) -> float:
    """bench.audit's measurement (best of its repeats), on a chain of its own."""
    if database == "postgresql":
        assert pg_url
        return audit_bench.run_postgres(pg_url, entries, keep).best
    tmp = Path(tempfile.mkdtemp(prefix="hallwatch-bench-signals-audit-"))
    try:
        return audit_bench.run_database(f"sqlite:///{tmp / 'audit.db'}", entries, "sqlite").best
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- output -------------------------------------------------------------------------------------
def _issued(summary: RunSummary) -> str:
    return (
        f"Y {summary.light_yellow:,} R {summary.light_red:,} G {summary.green:,} "
        f"↑{summary.escalated:,} ✓{summary.corrected:,}"
    )


def report(outcomes: list[Outcome], audit_entries: int) -> list[str]:
    table = Table(title=f"signal scheduler as of {AS_OF.isoformat()} (half the halls on shenzhen-2007)")
    table.add_column("")
    for o in outcomes:
        table.add_column(o.database, justify="right")
    rows: list[tuple[str, Callable[[Outcome], str]]] = [
        ("open cases", lambda o: f"{o.n:,}"),
        ("generate + load s", lambda o: f"{o.load_s:.1f}"),
    ]
    for name in outcomes[0].runs:
        rows.append((f"{name} run s", lambda o, k=name: f"{o.runs[k][0]:.3f}"))  # type: ignore[misc]
        rows.append((f"{name} run did", lambda o, k=name: _issued(o.runs[k][1])))  # type: ignore[misc]
    rows += [
        ("signals in the table", lambda o: f"{o.signals:,}"),
        (f"audit verify {audit_entries:,} entries s", lambda o: f"{o.audit_verify_s or 0:.2f}"),
        ("load average 1/5/15 min", lambda o: o.load_avg),
    ]
    for heading, cell in rows:
        table.add_row(heading, *(cell(o) for o in outcomes))
    Console(width=120).print(table)
    # The first run issues every signal at once (the backlog); the steady state is every later tick.
    lines = [
        f"RESULT signals_{count_label(o.n)}_{o.database}_seconds {o.first_s:.3f} s target=<=5"
        for o in outcomes
    ]
    lines += [
        f"RESULT signals_steady_{count_label(o.n)}_{o.database}_seconds {o.runs['steady'][0]:.3f} s target=<=5"
        for o in outcomes
    ]
    lines += [
        f"RESULT audit_verify_{count_label(audit_entries)}_{o.database}_seconds {o.audit_verify_s:.2f} s target=<=10"
        for o in outcomes
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.signals", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--audit-entries", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get("HALLWATCH_BENCH_DATABASE_URL"))
    parser.add_argument("--keep", action="store_true", help="Keep the PostgreSQL databases.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger.info("load average at start: %s on %d CPUs", os.getloadavg(), os.cpu_count() or 0)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="hallwatch-bench-signals-") as tmp:
        outcomes.append(run_database(f"sqlite:///{Path(tmp) / 'signals.sqlite3'}", args.cases, "sqlite"))
    if args.pg_url:
        outcomes.append(run_postgres(args.pg_url, args.cases, args.keep))
    for o in outcomes:
        o.audit_verify_s = audit_verify_seconds(o.database, args.audit_entries, args.pg_url, args.keep)
    print("\n".join(report(outcomes, args.audit_entries)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
