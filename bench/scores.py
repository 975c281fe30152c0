"""Benchmark: one day's performance scores of a Sichuan-sized province, and its monthly report.

    .venv/bin/python -m bench.scores [--small] [--pg-url URL] [--sample 100] [--warm-days N] [--keep DIR]

Builds a fresh schema with the real migrations (SQLite in a temp file; PostgreSQL, when a URL is
given or HALLWATCH_BENCH_DATABASE_URL is set, in a dedicated `hallwatch_bench_scores` database) and
loads bench.scores_province's data set: 205 centres, 10,000 windows, 20,000 staff, 1,000,000 open
cases, and every working day of September 2026 up to the scored day, 2026-09-30 (60,000 closures,
40,000 ratings, ~11,000 signals issued and ~4,000 escalated, follow-ups, absences, patrol findings,
investigations a day). Generating and loading are timed apart and are no part of any figure.

Then, as the daily pass would have: every calendar day of the month before the scored day is scored
(`score_day`, untimed but printed: the catch-up), so the scored day starts from its previous day's
state and the month's score rows are there for the report. Measured:
1. `compute_day` of the scored day, every subject in one pass (best of 2), and `score_day` of it —
   computed, written and committed: **score_day_seconds** (target ≤ 10 s);
2. the same computed one staff member at a time (`compute_day(subject=("staff", id))`) on a random
   sample, extrapolated to every staff member: **per_staff_ratio** = that ÷ the batch (target ≥ 1);
   each sampled staff member's lines must equal the batch's (mismatches fail the run);
3. the province's monthly report of September (`generate_monthly_report`: the page's figures and
   the PDF): **monthly_report_seconds** (target ≤ 30 s).
Ends with `RESULT <name> <value> <unit> target=<target>` lines.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from bench.common import load_average, machine_speed_ms, scratch_postgres
from bench.scores_data import PROFILE, SCORE_DAY, Scale
from bench.scores_province import Province, build, day_figures, print_figures
from central.calendar.service import load_calendar
from central.core.clock import SHANGHAI
from central.core.db import make_engine, make_session_factory
from central.reports.service import generate_monthly_report
from central.scores.daily import score_day
from central.scores.engine import DayScores, compute_day

logger = logging.getLogger(__name__)

PG_DATABASE = "hallwatch_bench_scores"
TARGET_DAY_S, TARGET_RATIO, TARGET_REPORT_S = 10, 1, 30
console = Console(stderr=True)


def pass_moment(day: date) -> datetime:
    """When the daily pass scores `day`: 01:00 the next morning, Shanghai time."""
    return datetime.combine(day + timedelta(days=1), clock(1), SHANGHAI)


@dataclass
class Outcome:
    database: str
    province: Province
    staff: int = 0
    warm_days: int = 0
    warm_s: float = 0.0
    compute_s: list[float] = field(default_factory=list)
    subjects: int = 0
    lines: int = 0
    score_day_s: float = 0.0
    per_staff_s: list[float] = field(default_factory=list)
    mismatches: int = 0
    report_s: float | None = None
    report_pdf_bytes: int = 0
    load_avg: str = ""

    @property
    def batch_s(self) -> float:
        return min(self.compute_s)

    @property
    def one_at_a_time_s(self) -> float:
        return statistics.mean(self.per_staff_s) * self.staff

    @property
    def ratio(self) -> float:
        return self.one_at_a_time_s / self.batch_s


def warm_up(factory: sessionmaker[Session], province: Province, days: int | None) -> tuple[int, float]:
    """Score the calendar days of the month before the scored day (or the last `days` of them), in
    order, as the daily pass does (each at 01:00 the morning after)."""
    first = province.day.replace(day=1) if days is None else province.day - timedelta(days=days)
    started = time.perf_counter()
    scored = 0
    with factory() as session:
        calendar = load_calendar(session)
        day = first
        while day < province.day:
            run = score_day(
                session,
                day=day,
                now=pass_moment(day),
                calendar=calendar,
                default_profile_key=PROFILE,
                instance="bench",
            )
            logger.info(
                "warm-up %s: %d subjects, %d lines, %.1f s", day, run.subjects, run.lines, run.seconds
            )
            scored += 1
            day += timedelta(days=1)
    return scored, time.perf_counter() - started


def _compute(session: Session, day: date, subject: tuple[str, int] | None = None) -> DayScores:
    return compute_day(
        session,
        day=day,
        as_of=pass_moment(day),
        calendar=load_calendar(session),
        default_profile_key=PROFILE,
        subject=subject,
    )


def _lines_of(scores: DayScores) -> dict[tuple[str, int], list[tuple[object, ...]]]:
    return {
        (s.subject.kind, s.subject.id): sorted(
            (line.rule_code, line.points, line.source_kind, line.source_id or 0) for line in s.lines
        )
        for s in scores.subjects
    }


def measure(factory: sessionmaker[Session], outcome: Outcome, sample: int) -> None:
    day = outcome.province.day
    batch: dict[tuple[str, int], list[tuple[object, ...]]] = {}
    for _ in range(2):
        with factory() as session:
            started = time.perf_counter()
            scores = _compute(session, day)
            outcome.compute_s.append(time.perf_counter() - started)
        batch = _lines_of(scores)
        outcome.subjects, outcome.lines = len(scores.subjects), scores.lines
        del scores
    staff = sorted(subject_id for kind, subject_id in batch if kind == "staff")
    outcome.staff = len(staff)
    chosen = np.random.default_rng(17).choice(staff, min(sample, len(staff)), replace=False).tolist()
    with factory() as session:
        for staff_id in chosen:
            started = time.perf_counter()
            one = _compute(session, day, ("staff", staff_id))
            outcome.per_staff_s.append(time.perf_counter() - started)
            mine = _lines_of(one).get(("staff", staff_id))
            if mine != batch.get(("staff", staff_id)):
                outcome.mismatches += 1
                if outcome.mismatches <= 10:
                    console.print(
                        f"[red]MISMATCH[/red] staff {staff_id}: alone {mine} batch {batch.get(('staff', staff_id))}"
                    )
    with factory() as session:
        started = time.perf_counter()  # around the call: its own figure stops before the commit
        run = score_day(
            session,
            day=day,
            now=pass_moment(day),
            calendar=load_calendar(session),
            default_profile_key=PROFILE,
            instance="bench",
        )
        outcome.score_day_s = time.perf_counter() - started
    logger.info(
        "%s: compute %s s, score_day %.2f s (%d subjects, %d lines)",
        outcome.database,
        outcome.compute_s,
        outcome.score_day_s,
        run.subjects,
        run.lines,
    )


def measure_report(factory: sessionmaker[Session], outcome: Outcome) -> None:
    month = f"{outcome.province.day:%Y-%m}"
    with factory() as session:
        started = time.perf_counter()
        report = generate_monthly_report(
            session,
            month=month,
            scope_kind="region",
            scope_code="510000",
            now=pass_moment(outcome.province.day),
            actor_label="system:bench",
        )
        session.commit()
        outcome.report_s = time.perf_counter() - started
        outcome.report_pdf_bytes = len(report.pdf or b"")


def run_database(
    url: str, database: str, scale: Scale, *, sample: int, warm_days: int | None, report: bool
) -> Outcome:
    engine = make_engine(url)
    province = build(engine, scale, SCORE_DAY)
    print_figures(province, day_figures(engine, province))
    factory = make_session_factory(engine)
    outcome = Outcome(database, province)
    outcome.warm_days, outcome.warm_s = warm_up(factory, province, warm_days)
    measure(factory, outcome, sample)
    if report:
        measure_report(factory, outcome)
    engine.dispose()
    outcome.load_avg = load_average()
    return outcome


# -- output -------------------------------------------------------------------------------------
def report_table(outcomes: list[Outcome], speed_ms: float) -> list[str]:
    table = Table(title=f"scores of {SCORE_DAY} ({PROFILE}), machine speed {speed_ms:.0f} ms")
    table.add_column("")
    for o in outcomes:
        table.add_column(o.database, justify="right")
    rows: list[tuple[str, Callable[[Outcome], str]]] = [
        ("open cases / staff", lambda o: f"{o.province.scale.open_cases:,} / {o.staff:,}"),
        ("generate / load s", lambda o: f"{o.province.generate_s:.1f} / {o.province.load_s:.1f}"),
        ("catch-up: days scored, s", lambda o: f"{o.warm_days} in {o.warm_s:.1f}"),
        ("subjects / lines", lambda o: f"{o.subjects:,} / {o.lines:,}"),
        ("compute_day runs s", lambda o: " / ".join(f"{s:.2f}" for s in o.compute_s)),
        ("score_day s (compute, write, commit)", lambda o: f"{o.score_day_s:.2f}"),
        (
            "one staff member at a time, ms",
            lambda o: (
                f"{statistics.mean(o.per_staff_s) * 1000:.0f} (p95 {np.percentile(o.per_staff_s, 95) * 1000:.0f})"
            ),
        ),
        ("… extrapolated to all staff s", lambda o: f"{o.one_at_a_time_s:.0f}"),
        ("ratio (one at a time / batch)", lambda o: f"{o.ratio:.0f}x"),
        ("sampled staff mismatches", lambda o: f"{o.mismatches} / {len(o.per_staff_s)}"),
        (
            "monthly report s (PDF bytes)",
            lambda o: "—" if o.report_s is None else f"{o.report_s:.2f} ({o.report_pdf_bytes:,})",
        ),
        ("load average 1/5/15 min", lambda o: o.load_avg),
    ]
    for heading, cell in rows:
        table.add_row(heading, *(cell(o) for o in outcomes))
    Console(width=120).print(table)
    lines = []
    for o in outcomes:
        suffix = "" if o.database == "sqlite" else f"_{o.database}"
        lines.append(f"RESULT score_day{suffix}_seconds {o.score_day_s:.2f} s target=<={TARGET_DAY_S}")
        lines.append(f"RESULT per_staff_ratio{suffix} {o.ratio:.0f} x target=>={TARGET_RATIO}")
        if o.report_s is not None:
            lines.append(
                f"RESULT monthly_report{suffix}_seconds {o.report_s:.2f} s target=<={TARGET_REPORT_S}"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scores", description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a hundredth of the province: a quick check")
    parser.add_argument("--pg-url", default=os.environ.get("HALLWATCH_BENCH_DATABASE_URL"))
    parser.add_argument("--sample", type=int, default=100, help="staff scored one at a time")
    parser.add_argument("--warm-days", type=int, help="score only this many days before (default: the month)")
    parser.add_argument("--no-report", action="store_true", help="leave out the monthly report")
    parser.add_argument("--keep", type=Path, help="keep the SQLite file here, and the PostgreSQL database")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logger.info("load average at start: %s on %d CPUs", os.getloadavg(), os.cpu_count() or 0)
    speed = machine_speed_ms()
    scale = Scale().small() if args.small else Scale()

    def run(url: str, database: str) -> Outcome:
        return run_database(
            url, database, scale, sample=args.sample, warm_days=args.warm_days, report=not args.no_report
        )

    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="hallwatch-bench-scores-") as tmp:
        path = (args.keep or Path(tmp)) / "scores.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        outcomes.append(run(f"sqlite:///{path}", "sqlite"))
    if args.pg_url:
        with scratch_postgres(args.pg_url, PG_DATABASE, keep=args.keep is not None) as url:
            outcomes.append(run(url, "postgresql"))
    lines = report_table(outcomes, speed)
    print("\n".join(lines), flush=True)
    return 1 if any(o.mismatches for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
