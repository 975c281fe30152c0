"""What every benchmark shares: a scratch PostgreSQL database, load figures, count labels."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from central.core.db import make_engine
from central.registry.models import Department, Hall, Region


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_process(
    command: Sequence[str],
    *,
    env: dict[str, str],
    ready_url: str,
    what: str,
    timeout: float = 90,
    quiet: bool = False,
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` as a subprocess, yielded once `ready_url` answers 200; terminated afterwards."""
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(list(command), env=env, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{what} did not start")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def provincial_hall(session: Session, *, hall_code: str = "510000-ZWFW") -> tuple[Hall, Department]:
    """The province, its centre and one department (省市场监管局), flushed: what a bench's hall needs."""
    region = Region(code="510000", name="四川省", level="province")
    session.add(region)
    session.flush()
    hall = Hall(code=hall_code, name="四川省政务服务中心", region_id=region.id, level="provincial")
    session.add(hall)
    session.flush()
    department = Department(code="SCJGJ", name="省市场监管局", hall_id=hall.id)
    session.add(department)
    session.flush()
    return hall, department
