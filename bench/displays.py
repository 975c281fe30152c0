"""Benchmark: the hall screens' change stream (SSE) fanned out by one central process.

    .venv/bin/python -m bench.displays [--clients 2000,8000] [--events 20] [--pg-url URL]

central runs as a subprocess (`hallwatch serve`: the real app under uvicorn, uvloop and httptools, as in
production); the watchers are raw asyncio connections in this process, on the same machine, each
reading `GET /api/v1/public/halls/{hall}/events` like a screen would. For each client count:

1. the watchers connect (a snapshot each) and central's resident memory is read before and after:
   **memory per connected watcher**;
2. `--events` times, one new case is pushed through the case API (`POST /api/v1/cases/events`, a real
   ingest: masking, numbering, storage and the NOTIFY included) and each watcher notes when the
   case's change arrived: **event → received by all**, the p99 over every (watcher, event) pair,
   timed from the moment the push was sent.

And first, through everything (bench/display_marquee.py): a case pushed at central → its entry on the
LED marquee (384×64) of a real display agent process, in headless Chromium: **event → on the marquee**.

SQLite by default; PostgreSQL with `--pg-url` or HALLWATCH_BENCH_DATABASE_URL. The open-files limit of
both processes is raised to the hard limit. The watchers run on uvloop, as central does: on a machine this
small they share its cores, and their own overhead is in the figure. Ends with `RESULT` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import httpx
import uvloop
from rich.console import Console

from bench.common import (
    count_label,
    free_port,
    load_average,
    machine_speed_ms,
    provincial_hall,
    scratch_postgres,
    served_process,
)
from bench.display_marquee import display_agent, marquee_latencies
from central.access.roles import Role
from central.access.service import create_user
from central.core.actor import Actor
from central.core.db import make_engine, make_session_factory
from central.core.migrate import upgrade
from central.core.warmup import GC_THRESHOLDS
from central.devices.keys import issue_key
from central.registry.models import Device, Item, ServiceWindow, Staff

console = Console()
HALL, ITEM = "510000-ZWFW", "SCJGJ-XK-001"
USER, PASSWORD = "bench-cases", "bench-password-2026"
PG_DATABASE = "hallwatch_bench_displays"
TARGET_P99_MS = {2000: 200, 8000: 500}
TARGET_KB_PER_CLIENT = 50
TARGET_MARQUEE_MS = 1000  # issue 16: the marquee shows a new case within 1 s of its event
ID_LINE = re.compile(rb"\nid: (\d+)\n")


def raise_open_files() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def seed(url: str) -> str:
    """The hall, one window's department, item and clerk, a user who pushes cases; answers the key of
    the hall's LED display."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as session:
        hall, department = provincial_hall(session, hall_code=HALL)
        window = ServiceWindow(code="W01", name="1号窗口", hall_id=hall.id, department_id=department.id)
        session.add(window)
        session.flush()
        session.add(Staff(code="S001", name="王芳", department_id=department.id, window_id=window.id))
        session.add(
            Item(code=ITEM, name="食品经营许可", department_id=department.id, legal_limit_days=20,
                 promised_limit_days=10, fee=Decimal("0"))
        )  # fmt: skip
        create_user(
            session, username=USER, password=PASSWORD, role=Role.SYSTEM_SUPERVISOR, scope_code="*",
            display_name=None, granted_by=None, now=now, actor=Actor(kind="cli", name="bench"),
        )  # fmt: skip
        display = Device(code="LED-BENCH", kind="display", name="大厅LED屏", hall_id=hall.id)
        session.add(display)
        session.flush()
        key = issue_key(
            session, device=display, now=now, issued_by=None, actor=Actor(kind="cli", name="bench")
        ).key
        session.commit()
    engine.dispose()
    return key


@contextmanager
def central(database_url: str) -> Iterator[tuple[str, int]]:
    """`hallwatch serve` on a free port; yields its base URL and process id."""
    port = free_port()
    env = {
        **os.environ,
        "HALLWATCH_DATABASE_URL": database_url,
        "HALLWATCH_SIGNAL_INTERVAL_SECONDS": "0",
        "HALLWATCH_PATROL_PLAN_INTERVAL_SECONDS": "0",
        "HALLWATCH_PUBLIC_FEED_INTERVAL_SECONDS": "0",
        "HALLWATCH_PUBLIC_STREAMS_PER_CLIENT": "1000000",  # every watcher comes from 127.0.0.1
        "HALLWATCH_PUBLIC_REQUESTS_PER_MINUTE": "1000000",
    }
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "central.cli", "serve", "--port", str(port)]  # inherits the raised limit
    with served_process(
        command, env=env, ready_url=f"{url}/healthz", what="the bench central", quiet=True
    ) as server:
        yield url, server.pid


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Watcher(asyncio.Protocol):
    """One screen: notes when each change number first arrives (the stream is chunked; an id line is
    found across chunk boundaries by keeping the tail). `arrived` counts, over all watchers, how many
    have each number: the bench waits on that, not on a scan of every watcher (which would load the
    shared cores while central fans out)."""

    arrived: ClassVar[Counter[int]] = Counter()

    def __init__(self, connected: asyncio.Future[None]) -> None:
        self.arrivals: dict[int, float] = {}
        self._tail = b""
        self._connected = connected
        self.closed = False

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buffer = self._tail + data
        for match in ID_LINE.finditer(buffer):
            seq = int(match.group(1))
            if seq not in self.arrivals:
                self.arrivals[seq] = now
                Watcher.arrived[seq] += 1
        self._tail = buffer[-32:]
        if not self._connected.done() and b"event: snapshot" in buffer:
            self._connected.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self._connected.done():
            self._connected.set_exception(ConnectionError("closed before the snapshot"))


async def connect_all(port: int, count: int, *, batch: int = 200) -> list[Watcher]:
    loop = asyncio.get_running_loop()
    request = (
        f"GET /api/v1/public/halls/{HALL}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()
    watchers: list[Watcher] = []

    async def one() -> Watcher:
        connected: asyncio.Future[None] = loop.create_future()
        transport, watcher = await loop.create_connection(lambda: Watcher(connected), "127.0.0.1", port)
        transport.write(request)
        await asyncio.wait_for(connected, 120)
        return watcher

    for start in range(0, count, batch):
        watchers.extend(await asyncio.gather(*(one() for _ in range(min(batch, count - start)))))
    return watchers


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def case_event(case_no: str) -> dict[str, str]:
    at = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    return {"event_id": f"{case_no}-r", "case_no": case_no, "type": "received", "at": at,
            "item_code": ITEM, "hall_code": HALL, "window_code": "W01", "staff_code": "S001",
            "applicant_name": "张三明"}  # fmt: skip


async def push_case(client: httpx.AsyncClient, n: int, tag: str) -> None:
    response = await client.post("/api/v1/cases/events", json=[case_event(f"B-{tag}-{n:05d}")])
    response.raise_for_status()


def marquee_round(url: str, key: str, workdir: Path, count: int) -> list[float]:
    """A case pushed at central → its entry on the marquee of a real display agent, `count` times."""
    with central(url) as (base, _pid), httpx.Client(base_url=base, timeout=30) as api:
        token = api.post("/api/v1/auth/token", data={"username": USER, "password": PASSWORD}).json()
        api.headers["Authorization"] = f"Bearer {token['access_token']}"

        def push(case_no: str) -> None:
            api.post("/api/v1/cases/events", json=[case_event(case_no)]).raise_for_status()

        with display_agent(workdir, hall=HALL, central=base, key=key) as agent:
            return marquee_latencies(agent, push, count)


async def round_of(base: str, clients: int, events: int, pid: int) -> tuple[list[float], float, int]:
    """Latencies (ms) of every (watcher, event), KB per watcher, watchers that lost their stream."""
    port = int(base.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=base, timeout=60) as api:
        token = (await api.post("/api/v1/auth/token", data={"username": USER, "password": PASSWORD})).json()
        api.headers["Authorization"] = f"Bearer {token['access_token']}"
        warm = await connect_all(port, 1)
        await push_case(api, 0, f"w{clients}")  # the hall's feed started, the first ingest paid for
        await asyncio.sleep(1.0)
        before = rss_kb(pid)
        started = time.perf_counter()
        watchers = await connect_all(port, clients)
        console.print(f"  {clients} watchers connected in {time.perf_counter() - started:.1f} s")
        gc.freeze()  # the watchers' own collector as central's (central/core/warmup.py): not in the figure
        gc.set_threshold(*GC_THRESHOLDS)
        await asyncio.sleep(2.0)
        after = rss_kb(pid)
        latencies: list[float] = []
        pushes: list[float] = []
        for n in range(1, events + 1):
            known = max(warm[0].arrivals)
            sent = time.perf_counter()
            await push_case(api, n, f"c{clients}")
            pushes.append((time.perf_counter() - sent) * 1000)
            deadline = time.monotonic() + 10
            alive = sum(not w.closed for w in watchers)
            while time.monotonic() < deadline and Watcher.arrived[known + 1] < alive:
                await asyncio.sleep(0.05)
            for watcher in watchers:
                arrived = watcher.arrivals.get(known + 1)
                latencies.append((arrived - sent) * 1000 if arrived else 10_000.0)
            await asyncio.sleep(0.3)
        console.print(f"  the case API answered the push in p50 {pct(pushes, 0.5):.1f} ms")
        lost = sum(w.closed for w in watchers)
        for watcher in [*watchers, *warm]:
            watcher.closed = True
        return latencies, (after - before) / clients, lost


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.displays", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="2000,8000", help="Comma-separated watcher counts.")
    parser.add_argument("--events", type=int, default=20, help="Changes timed per count.")
    parser.add_argument("--marquee-events", type=int, default=20, help="Cases timed onto the marquee.")
    parser.add_argument("--pg-url", default=os.environ.get("HALLWATCH_BENCH_DATABASE_URL"))
    o = parser.parse_args()
    counts = [int(c) for c in o.clients.split(",")]
    limit = raise_open_files()
    if limit < max(counts) + 100:
        raise SystemExit(f"the open-files hard limit ({limit}) is below {max(counts) + 100}")
    console.print(f"load average {load_average()}, machine speed {machine_speed_ms():.0f} ms")
    results: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch_db = (
            scratch_postgres(o.pg_url, PG_DATABASE, keep=False)
            if o.pg_url
            else nullcontext(f"sqlite:///{scratch}/bench.db")
        )
        with scratch_db as url:
            key = seed(url)
            console.print(f"database: {'PostgreSQL' if o.pg_url else 'SQLite'}")
            marquee = marquee_round(url, key, Path(scratch), o.marquee_events)
            console.print(
                f"marquee (agent + Chromium): event → shown p50 {pct(marquee, 0.5):.0f} ms, p99 "
                f"{pct(marquee, 0.99):.0f} ms, max {max(marquee):.0f} ms over {len(marquee)} cases"
            )
            results.append(
                f"RESULT display_marquee_p99 {pct(marquee, 0.99):.0f} ms target=<={TARGET_MARQUEE_MS}"
            )
            for clients in counts:
                with central(url) as (base, pid):
                    latencies, kb, lost = uvloop.run(round_of(base, clients, o.events, pid))
                p50, p99 = pct(latencies, 0.5), pct(latencies, 0.99)
                console.print(
                    f"{clients} watchers: event → received p50 {p50:.1f} ms, p99 {p99:.1f} ms, max "
                    f"{max(latencies):.1f} ms over {len(latencies)} deliveries; {kb:.1f} KB each; {lost} lost"
                )
                label = count_label(clients)
                target = TARGET_P99_MS.get(clients, 500)
                results.append(f"RESULT display_sse_{label}_p99 {p99:.1f} ms target=<={target}")
                results.append(
                    f"RESULT display_sse_{label}_memory_per_client {kb:.1f} KB target=<={TARGET_KB_PER_CLIENT}"
                )
                results.append(f"RESULT display_sse_{label}_lost {lost} streams target=<=0")
    for line in results:
        print(line)


if __name__ == "__main__":
    main()
