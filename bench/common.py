"""What every benchmark shares: a scratch PostgreSQL database, load figures, count labels."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url

from central.core.db import make_engine


@contextmanager
def scratch_postgres(url: str, name: str, *, keep: bool) -> Iterator[str]:
    """A fresh database `name` on the server of `url` (never the one `url` names); yields its URL
    and drops it afterwards unless `keep`."""
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def count_label(n: int) -> str:
    """1000000 → "1m", 50000 → "50k": the size part of a RESULT name."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_speed_ms() -> float:
    """Milliseconds for a fixed pure-Python loop (best of three): a shared small machine's speed
    swings by half from one hour to the next, so a benchmark prints it beside its figures."""
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        sum(range(10_000_000))
        timings.append((time.perf_counter() - started) * 1000)
    return min(timings)
