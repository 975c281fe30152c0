"""Benchmark: verify a hash-chained audit trail of a million entries.

    .venv/bin/python -m bench.audit [--entries 1000000] [--pg-url URL] [--keep]

Builds a fresh schema with the real migrations (SQLite in a temp file; PostgreSQL, when a URL is
given or HALLWATCH_BENCH_DATABASE_URL is set, in a dedicated `hallwatch_bench_audit` database),
writes a valid chain of N entries (hashes computed in Python in one pass with the same functions
`record` uses, then bulk-loaded: one executemany transaction on SQLite, COPY on PostgreSQL), times
`verify` (best of 3), then edits one entry in the middle behind the application's back and checks
that verify names it. Ends with `RESULT <name> <value> <unit> target=<target>` lines.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Engine, text

from bench.common import count_label, load_average, scratch_postgres
from central.audit.chain import verify
from central.audit.hashing import ZERO_HASH, canonical_json, canonical_payload, entry_hash, iso_utc
from central.core.db import make_engine
from central.core.migrate import upgrade

logger = logging.getLogger(__name__)

PG_DATABASE = "hallwatch_bench_audit"
REPEATS, CHUNK = 3, 50_000
START = datetime(2026, 1, 5, 0, 30, tzinfo=UTC)
COLUMNS = [
    "seq", "at", "actor", "remote_addr", "action", "target_type", "target_id",
    "before", "after", "prev_hash", "hash",
]  # fmt: skip
STATUSES = ["received", "accepted", "undertaken", "reviewed", "approved", "completed"]
console = Console(stderr=True)

Entry = tuple[int, datetime, str, str | None, str, str, str, str | None, str | None, str, str]


# -- data ---------------------------------------------------------------------------------------
def _fields(seq: int) -> tuple[str, str | None, str, str, str, Any, Any]:
    """actor, remote_addr, action, target_type, target_id, before, after of a plausible entry."""
    if seq % 1000 == 0:
        counts = {"regions": {"created": 0, "updated": 1, "unchanged": 204}}
        return "cli:operator", None, "registry.imported", "registry", "sichuan.yaml", None, counts
    if seq % 50_000 == 1:
        year = {"year": 2027, "holidays": ["2027-01-01", "2027-02-08"], "workdays": ["2027-02-20"]}
        return "user:admin", "10.8.0.2", "calendar.year_entered", "calendar_year", "2027", None, year
    status = seq % len(STATUSES)
    before = {"status": STATUSES[status - 1]} if status else None
    after = {"status": STATUSES[status], "events": [{"event_id": f"ev-{seq}", "type": STATUSES[status]}]}
    remote = f"10.20.{seq % 200}.{seq % 250}"
    return (
        "user:anonymous",
        remote,
        "case.events.stored",
        "case",
        f"510104-2026-{seq // 3:08d}",
        before,
        after,
    )


def generate(n: int) -> Iterator[Entry]:
    """A plausible trail, hashed with the very functions `record` uses: mostly case batches from
    the API, some CLI registry imports and calendar entries."""
    prev = ZERO_HASH
    for seq in range(1, n + 1):
        # Random-looking microseconds, as a real clock gives (PostgreSQL prints them unpadded).
        at = START + timedelta(microseconds=seq * 250_013 + (seq * 7919) % 1000)
        actor, remote, action, t_type, t_id, before, after = _fields(seq)
        before_text, after_text = canonical_json(before), canonical_json(after)
        payload = canonical_payload(
            seq, iso_utc(at), actor, remote, action, t_type, t_id, before_text, after_text
        )
        digest = entry_hash(payload, prev)
        yield (seq, at, actor, remote, action, t_type, t_id, before_text, after_text, prev, digest)
        prev = digest


def _chunks(entries: Iterator[Entry]) -> Iterator[list[Entry]]:
    batch: list[Entry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _copy_text(value: object) -> str:
    if value is None:
        return "\\N"
    text_value = value.isoformat() if isinstance(value, datetime) else str(value)
    # COPY's text format: backslash, tab and newlines must be escaped.
    return text_value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def load(engine: Engine, n: int) -> tuple[int, str]:
    """Write the chain in bulk and set the head; returns the head (seq, hash)."""
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    last: Entry | None = None
    try:
        cursor = raw.cursor()
        with Progress(console=console) as progress:
            task = progress.add_task(f"writing {n:,} entries into {engine.dialect.name}", total=n)
            if postgres:
                copy_sql = f"COPY audit_entries ({', '.join(COLUMNS)}) FROM STDIN"
                with raw.driver_connection.cursor() as pg, pg.copy(copy_sql) as copy:  # type: ignore[union-attr]
                    for batch in _chunks(generate(n)):
                        copy.write("".join("\t".join(map(_copy_text, row)) + "\n" for row in batch))
                        last = batch[-1]
                        progress.advance(task, len(batch))
            else:
                cursor.execute("PRAGMA synchronous=OFF")  # generation only: the connection is disposed
                placeholders = ", ".join("?" * len(COLUMNS))
                insert = f"INSERT INTO audit_entries ({', '.join(COLUMNS)}) VALUES ({placeholders})"
                for batch in _chunks(generate(n)):
                    # SQLAlchemy's SQLite DateTime storage: naive UTC, microseconds always written.
                    rows = [
                        (r[0], r[1].replace(tzinfo=None).isoformat(" ", "microseconds"), *r[2:])
                        for r in batch
                    ]
                    cursor.executemany(insert, rows)
                    last = batch[-1]
                    progress.advance(task, len(batch))
            assert last is not None
            cursor.execute(
                "UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1"
                if postgres
                else "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1",
                (last[0], last[-1]),
            )
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in (
            ("VACUUM (ANALYZE) audit_entries",)
            if postgres
            else ("ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)")
        ):
            conn.execute(text(statement))
    engine.dispose()
    return last[0], last[-1]


# -- measuring ----------------------------------------------------------------------------------
@dataclass
class Outcome:
    database: str
    n: int
    load_s: float
    verify_s: list[float]
    tamper_found: str
    load_avg: str

    @property
    def best(self) -> float:
        return min(self.verify_s)


def _tamper_middle(engine: Engine, seq: int) -> None:
    """An edit behind the application's back: drop the append-only trigger, change one field."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_entries_append_only ON audit_entries"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        conn.execute(text("UPDATE audit_entries SET target_id = 'edited' WHERE seq = :seq"), {"seq": seq})


def run_database(url: str, n: int, database: str) -> Outcome:
    engine = make_engine(url)
    upgrade(engine)
    start = time.perf_counter()
    load(engine, n)
    load_s = time.perf_counter() - start
    verify_s: list[float] = []
    for attempt in range(REPEATS):
        with engine.connect() as conn:
            start = time.perf_counter()
            result = verify(conn)
            verify_s.append(time.perf_counter() - start)
        if not result.ok or result.checked != n:
            raise SystemExit(f"{database}: the generated chain did not verify: {result}")
        logger.info("%s verify #%d: %.2f s", database, attempt + 1, verify_s[-1])
    middle = n // 2 + 1
    _tamper_middle(engine, middle)
    with engine.connect() as conn:
        bad = verify(conn).bad
    found = f"seq {bad.seq} {bad.reason}" if bad else "NOT FOUND"
    if bad is None or (bad.seq, bad.reason) != (middle, "altered"):
        console.print(f"[red]{database}: the edit of seq {middle} was reported as {found}[/red]")
    engine.dispose()
    load_avg = load_average()
    return Outcome(database, n, load_s, verify_s, found, load_avg)


def run_postgres(url: str, n: int, keep: bool) -> Outcome:
    """In a database of its own, created through the given server and dropped afterwards unless kept."""
    with scratch_postgres(url, PG_DATABASE, keep=keep) as bench_url:
        return run_database(bench_url, n, "postgresql")


# -- output -------------------------------------------------------------------------------------
def report(outcomes: list[Outcome]) -> list[str]:
    table = Table(title="audit verify (SHA-256 chain, seq order)")
    table.add_column("")
    for o in outcomes:
        table.add_column(o.database, justify="right")
    rows: list[tuple[str, Callable[[Outcome], str]]] = [
        ("entries", lambda o: f"{o.n:,}"),
        ("generate + load s", lambda o: f"{o.load_s:.1f}"),
        ("verify best / median s", lambda o: f"{o.best:.2f} / {statistics.median(o.verify_s):.2f}"),
        ("entries per second (best)", lambda o: f"{o.n / o.best:,.0f}"),
        ("one edit at seq n/2+1 found as", lambda o: o.tamper_found),
        ("load average 1/5/15 min", lambda o: o.load_avg),
    ]
    for heading, cell in rows:
        table.add_row(heading, *(cell(o) for o in outcomes))
    Console(width=120).print(table)
    return [
        f"RESULT audit_verify_{count_label(o.n)}_{o.database}_seconds {o.best:.2f} s target=<=10"
        for o in outcomes
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get("HALLWATCH_BENCH_DATABASE_URL"))
    parser.add_argument(
        "--keep", action="store_true", help="Keep the SQLite file and the PostgreSQL database."
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    outcomes: list[Outcome] = []
    tmp = Path(tempfile.mkdtemp(prefix="hallwatch-bench-audit-"))
    try:
        outcomes.append(run_database(f"sqlite:///{tmp / 'audit.db'}", args.entries, "sqlite"))
    finally:
        if args.keep:
            console.print(f"kept {tmp / 'audit.db'}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.pg_url:
        outcomes.append(run_postgres(args.pg_url, args.entries, args.keep))
    for line in report(outcomes):
        print(line)
    return 0 if all(o.tamper_found.endswith("altered") for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
