"""The scores benchmark's data set, generated and bulk-loaded into a migrated database:

    .venv/bin/python -m bench.scores_province [--small] [--db PATH]

Sichuan's tree (1 province, 21 cities, 183 counties, a centre each) under the sichuan-2011 profile;
10,000 windows, 20,000 staff, their departments and items; 1,000,000 cases open at the end of the
scored day (2026-09-30), by their light then; and every working day of that month up to it: the
closures, ratings, 差评 follow-ups, light and manual signals with their lifecycle, confirmed absences
and patrol findings, investigations. `--small` is a hundredth of it. Prints what the scored day holds.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from rich.console import Console
from sqlalchemy import Engine, text

import central.models  # noqa: F401  (every table in the metadata the loader reads)
from bench.bulk import NULL, Rows, bulk_load
from bench.scores_data import SCORE_DAY, Days, Scale, build_registry, open_cases
from bench.scores_days import Month, absences, closed_cases, manual_signals, patrols, ratings
from bench.scores_signals import SignalTables
from central.core.db import make_engine
from central.core.migrate import upgrade
from common.worktime import WorkCalendar
from common.worktime.official import official_years

logger = logging.getLogger(__name__)

SEED = 20261130
console = Console(stderr=True)


@dataclass
class Province:
    scale: Scale
    day: date  # the scored day
    previous: date  # the working day before it
    month_days: list[date]  # the month's working days through the scored day
    generate_s: float
    load_s: float
    rows: dict[str, int]


def generate(scale: Scale, day: date, seed: int = SEED) -> tuple[list[Rows], list[date]]:
    """Every table's rows: the registry, the open cases with their light signals, then each working
    day of the scored day's month up to it."""
    rng = np.random.default_rng(seed)
    calendar = WorkCalendar(official_years())
    days = Days(calendar, date(day.year, 1, 1), date(calendar.covered_years[-1], 12, 31))
    scored = days.index(day)
    registry, tables = build_registry(scale, rng)
    cases = Rows("cases")
    opened = open_cases(registry, scale, days, scored, rng, cases)
    month = Month(cases, SignalTables(days, scored, rng))
    month.sig.light(
        case=opened.ids,
        hall=opened.hall,
        dept=opened.dept,
        due=opened.due,
        accepted=opened.accepted,
        closed=np.full(len(opened.ids), NULL),
    )
    first = days.index(
        min(d for d in map(date.fromordinal, days.ordinal.tolist()) if d >= day.replace(day=1))
    )
    for index in range(first, scored + 1):
        closed = closed_cases(month, registry, scale, days, index)
        ratings(month, scale, registry, days, index, closed)
        absences(month, scale, registry, days, index)
        patrols(month, scale, registry, days, index)
        manual_signals(month, scale, registry, opened.ids, opened.dept, index)
    month_days = [date.fromordinal(int(o)) for o in days.ordinal[first : scored + 1]]
    return [*tables, *month.tables()], month_days


def build(engine: Engine, scale: Scale, day: date = SCORE_DAY) -> Province:
    """Migrate, generate and load; the two timed apart (neither is part of any figure)."""
    upgrade(engine)
    started = time.perf_counter()
    with console.status("generating the province"):
        tables, month_days = generate(scale, day)
    generate_s = time.perf_counter() - started
    started = time.perf_counter()
    with (
        console.status(f"loading {sum(len(t) for t in tables):,} rows into {engine.dialect.name}"),
        bulk_load(engine) as loader,
    ):
        for rows in tables:
            loader.insert(rows)
    load_s = time.perf_counter() - started
    logger.info("generated in %.1f s, loaded in %.1f s: %s", generate_s, load_s, loader.loaded)
    return Province(scale, day, month_days[-2], month_days, generate_s, load_s, dict(loader.loaded))


# What the scored day holds, counted back from the database (so the figures are what was loaded).
DAY_FIGURES = {
    "cases open": "SELECT count(*) FROM cases WHERE closed_on IS NULL",
    "cases closed on the day": "SELECT count(*) FROM cases WHERE closed_on = :day",
    "… early (before the promised due date)": "SELECT count(*) FROM cases WHERE closed_on = :day AND promised_due_date > :day",
    "… late": "SELECT count(*) FROM cases WHERE closed_on = :day AND promised_due_date < :day",
    "… missing due dates": "SELECT count(*) FROM cases WHERE closed_on = :day AND calendar_missing",
    "… without window or clerk": "SELECT count(*) FROM cases WHERE closed_on = :day AND staff_id IS NULL",
    "signals issued: light_yellow": "SELECT count(*) FROM signals WHERE issued_on = :day AND reason_code = 'light_yellow'",
    "signals issued: light_red": "SELECT count(*) FROM signals WHERE issued_on = :day AND reason_code = 'light_red'",
    "signals issued: other reasons": "SELECT count(*) FROM signals WHERE issued_on = :day AND reason_code NOT IN ('light_yellow', 'light_red')",
    "signals escalated to red": "SELECT count(*) FROM signals WHERE escalated_at >= :start AND escalated_at < :end",
    "signals closed with a fault finding": "SELECT count(*) FROM signals WHERE closed_at >= :start AND closed_at < :end AND finding = 'fault'",
    "ratings": "SELECT count(*) FROM ratings WHERE rated_on = :day",
    "… 差评 (levels 1–2)": "SELECT count(*) FROM ratings WHERE rated_on = :day AND level <= 2",
    "… excluded": "SELECT count(*) FROM ratings WHERE rated_on = :day AND excluded",
    "follow-ups due the day before, not rectified": "SELECT count(*) FROM rating_followups WHERE rectify_due = :previous AND rectified_at IS NULL",
    "absences confirmed": "SELECT count(*) FROM video_absences WHERE status = 'confirmed' AND reviewed_at >= :start AND reviewed_at < :end",
    "patrol findings confirmed": "SELECT count(*) FROM patrol_findings WHERE status = 'confirmed' AND reviewed_at >= :start AND reviewed_at < :end",
    "investigations due the day before, open": "SELECT count(*) FROM investigations WHERE due_date = :previous AND status = 'open'",
}


def day_figures(engine: Engine, province: Province) -> dict[str, int]:
    from bench.scores_data import moment

    start, end = (int(moment(province.day.toordinal() + k, 0)) for k in (0, 1))
    postgres = engine.dialect.name == "postgresql"
    fmt = "%Y-%m-%d %H:%M:%S+00" if postgres else "%Y-%m-%d %H:%M:%S.000000"
    stamp = {k: time.strftime(fmt, time.gmtime(v)) for k, v in (("start", start), ("end", end))}
    params = {"day": province.day.isoformat(), "previous": province.previous.isoformat(), **stamp}
    with engine.connect() as conn:
        return {
            label: int(conn.execute(text(sql), params).scalar_one()) for label, sql in DAY_FIGURES.items()
        }


def print_figures(province: Province, figures: dict[str, int]) -> None:
    console.print(
        f"[bold]{province.day} (scored), previous working day {province.previous}; "
        f"{len(province.month_days)} working days generated; generate {province.generate_s:.1f} s, load {province.load_s:.1f} s"
    )
    for label, value in figures.items():
        console.print(f"  {label:<48} {value:>10,}")
    console.print("  rows: " + ", ".join(f"{name} {n:,}" for name, n in province.rows.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scores_province", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--small", action="store_true", help="a hundredth of the province: a quick check")
    parser.add_argument("--db", type=Path, help="write the SQLite file here (kept) instead of a temp dir")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scale = Scale().small() if args.small else Scale()
    with tempfile.TemporaryDirectory(prefix="hallwatch-bench-scores-") as tmp:
        path = args.db or Path(tmp) / "scores.sqlite3"
        path.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{path}")
        province = build(engine, scale)
        print_figures(province, day_figures(engine, province))
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
