"""Benchmark: the hall↔central command link, central → agent → reply at central, over loopback.

    .venv/bin/python -m bench.link [--agents 200] [--commands 400] [--concurrency 1] [--pg-url URL]

central runs as a subprocess (the real app under uvicorn, `bench/link_server.py`, which adds a route
that queues a command and waits for its reply); the agents are asyncio clients in this process, one
per hall, each with its own device key. Three figures:

1. **WebSocket round trip**: `--agents` agents hold the device channel open; a command is queued for a
   random hall (committed, the hall notified), its agent gets it on the channel and sends a `reply`
   frame, and central's waiter has it; timed by the caller of the queueing route, so the HTTP call is
   in the figure too. `--concurrency` such calls at a time (1: the latency one command sees; more
   measures a busy central, whose single process then queues them).
2. **Long-poll round trip**, the same agents long-polling instead (`GET /api/v1/device/commands`), each
   replying by an HTTP POST: the link as it was before the channel, measured in the same run.
3. **Cross-instance**: two central processes on one PostgreSQL database; the agents' channels are open
   to instance B, commands are queued on instance A; timed from the queueing call on A to the command's
   arrival at the agent (both in this process). Skipped without PostgreSQL (`--pg-url` or
   HALLWATCH_BENCH_DATABASE_URL).

Figures 1 and 2 use PostgreSQL when it is given (as in production), else SQLite. Prints the load
average and the machine speed; ends with `RESULT <name> <value> <unit> target=<target>` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from websockets.asyncio.client import ClientConnection, connect

from bench.common import free_port, load_average, machine_speed_ms, scratch_postgres, served_process
from central.core.actor import Actor
from central.core.db import make_engine, make_session_factory
from central.core.migrate import upgrade
from central.devices.keys import issue_key
from central.registry.models import Device, Hall, Region
from common.device_channel import CHANNEL_PATH

console = Console()
PG_DATABASE = "hallwatch_bench_link"
COMMANDS_PATH = "/api/v1/device/commands"


def seed(url: str, agents: int) -> list[tuple[int, str]]:
    """A fresh schema with one hall and one edge device per agent: (hall id, device key) each."""
    engine = make_engine(url)
    upgrade(engine)
    actor = Actor(kind="cli", name="bench")
    with make_session_factory(engine)() as session:
        region = Region(code="510000", name="四川省", level="province")
        session.add(region)
        session.flush()
        halls = [
            Hall(code=f"B{i:04d}", name=f"大厅{i}", region_id=region.id, level="county")
            for i in range(agents)
        ]
        session.add_all(halls)
        session.flush()
        devices = [Device(code=f"EDGE-{h.code}", kind="edge", name=h.name, hall_id=h.id) for h in halls]
        session.add_all(devices)
        session.flush()
        at = datetime.now(UTC)
        keys = [
            (d.hall_id, issue_key(session, device=d, now=at, issued_by=None, actor=actor).key)
            for d in devices
        ]
        session.commit()
    engine.dispose()
    return keys


@contextmanager
def central(database_url: str) -> Iterator[str]:
    """`bench.link_server` as a subprocess on a free port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "HALLWATCH_DATABASE_URL": database_url, "HALLWATCH_SIGNAL_INTERVAL_SECONDS": "0"}
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "bench.link_server", "--port", str(port)]
    with served_process(command, env=env, ready_url=f"{url}/healthz", what="the bench central"):
        yield url


class Agents:
    """The agents' side: records when each command arrived; replies over the channel or HTTP."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.ready = 0

    async def websocket(self, base: str, key: str, *, reply: bool) -> None:
        url = "ws" + base.removeprefix("http") + CHANNEL_PATH
        ws: ClientConnection
        async with connect(
            url, additional_headers={"X-Device-Key": key}, proxy=None, ping_interval=None
        ) as ws:
            await ws.send(json.dumps({"type": "hello", "cursor": 0}))
            self.ready += 1
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] != "commands":
                    continue
                for command in message["commands"]:
                    self.arrived[command["id"]] = time.perf_counter()
                    if reply:
                        body = {"type": "reply", "command_id": command["id"], "body": {"shown": True}}
                        await ws.send(json.dumps(body))
                await ws.send(json.dumps({"type": "ack", "cursor": message["cursor"]}))

    async def long_poll(self, client: httpx.AsyncClient, key: str) -> None:
        cursor, headers = 0, {"X-Device-Key": key}
        self.ready += 1
        while True:
            response = await client.get(COMMANDS_PATH, params={"after": cursor, "wait": 25}, headers=headers)
            page = response.json()
            for command in page["commands"]:
                self.arrived[command["id"]] = time.perf_counter()
                await client.post(f"/bench/replies/{command['id']}", json={"shown": True})
            cursor = page["cursor"]


async def measure(
    client: httpx.AsyncClient, halls: list[int], *, commands: int, concurrency: int, reply_wait: float
) -> list[tuple[int, float, float, Any]]:
    """Queue `commands` commands for random halls, `concurrency` at a time: (id, sent at, seconds to
    the answer, reply) each."""
    results: list[tuple[int, float, float, Any]] = []
    rng = random.Random(14)

    async def worker(n: int) -> None:
        for _ in range(n):
            started = time.perf_counter()
            response = await client.post(
                f"/bench/commands/{rng.choice(halls)}", params={"reply_wait": reply_wait}
            )
            answer = response.json()
            results.append((answer["id"], started, time.perf_counter() - started, answer["reply"]))

    share = [commands // concurrency + (1 if i < commands % concurrency else 0) for i in range(concurrency)]
    await asyncio.gather(*(worker(n) for n in share))
    return results


def pct(values: list[float], q: float) -> float:
    """The q-quantile of `values` (seconds) in milliseconds; NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


Start = Callable[[Agents, httpx.AsyncClient, str], Coroutine[Any, Any, None]]


async def phase(
    base: str,
    keys: list[tuple[int, str]],
    start: Start,
    o: argparse.Namespace,
    *,
    queue_at: str | None = None,
) -> list[float]:
    """One agent per key started with `start`; once all are ready, a warm-up, then the measured
    commands. Round trips (seconds), or with `queue_at` (another instance) the arrival times."""
    agents = Agents()
    limits = httpx.Limits(max_connections=len(keys) + 50, max_keepalive_connections=len(keys) + 50)
    reply_wait = 0.0 if queue_at else 10.0
    async with (
        httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as agent_client,
        httpx.AsyncClient(base_url=queue_at or base, timeout=60) as caller,
    ):
        tasks: list[asyncio.Task[None]] = []
        for i, (_hall, key) in enumerate(keys):
            tasks.append(asyncio.create_task(start(agents, agent_client, key)))
            if i % 20 == 19:
                await asyncio.sleep(0.05)  # connect in waves, as halls do, not all in one instant
        deadline = time.monotonic() + 60
        while agents.ready < len(keys) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # every hello answered, every long-poll parked
        halls = [hall for hall, _ in keys]
        await measure(caller, halls, commands=20, concurrency=o.concurrency, reply_wait=reply_wait)
        results = await measure(
            caller, halls, commands=o.commands, concurrency=o.concurrency, reply_wait=reply_wait
        )
        if queue_at is not None:
            deadline = time.monotonic() + 30
            while any(r[0] not in agents.arrived for r in results) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            timings = [agents.arrived[i] - sent for i, sent, _, _ in results if i in agents.arrived]
        else:
            timings = [took for _, _, took, reply in results if reply is not None]
        if len(timings) < len(results):
            console.print(f"[red]{len(results) - len(timings)} command(s) not answered or not arrived[/red]")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return timings


async def over_websocket(agents: Agents, client: httpx.AsyncClient, key: str) -> None:
    await agents.websocket(str(client.base_url), key, reply=True)


async def over_long_poll(agents: Agents, client: httpx.AsyncClient, key: str) -> None:
    await agents.long_poll(client, key)


def report(name: str, timings: list[float]) -> None:
    console.print(
        f"{name}: n={len(timings)} p50 {pct(timings, 0.5):.1f} ms  p90 {pct(timings, 0.9):.1f} ms  "
        f"p99 {pct(timings, 0.99):.1f} ms  max {pct(timings, 1.0):.1f} ms"
    )


def run(o: argparse.Namespace) -> None:
    console.print(f"load {load_average()}  speed {machine_speed_ms():.0f} ms")
    cross: list[float] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        if o.pg_url:
            with scratch_postgres(o.pg_url, PG_DATABASE, keep=False) as url:
                ws, lp, cross = asyncio_main(url, o, cross_instance=True)
        else:
            url = f"sqlite:///{Path(tmp) / 'link.db'}"
            ws, lp, _ = asyncio_main(url, o, cross_instance=False)
    database = "postgresql" if o.pg_url else "sqlite"
    console.print(f"{o.agents} agents, {o.commands} commands, {o.concurrency} at a time, {database}")
    report("websocket round trip", ws)
    report("long-poll round trip", lp)
    if cross is not None:
        report("cross-instance (queued on A, at the agent on B)", cross)
    else:
        console.print("cross-instance: skipped (needs PostgreSQL: --pg-url or HALLWATCH_BENCH_DATABASE_URL)")
    console.print(f"load {load_average()}  speed {machine_speed_ms():.0f} ms")
    print(f"RESULT link_ws_round_trip_p99 {pct(ws, 0.99):.1f} ms target=<=50")
    print(f"RESULT link_long_poll_round_trip_p99 {pct(lp, 0.99):.1f} ms")
    cross_value = f"{pct(cross, 0.99):.1f}" if cross is not None else "skipped"
    print(f"RESULT link_cross_instance_p99 {cross_value} ms target=<=100")


def asyncio_main(
    url: str, o: argparse.Namespace, *, cross_instance: bool
) -> tuple[list[float], list[float], list[float] | None]:
    keys = seed(url, o.agents)
    with central(url) as base:
        ws = asyncio.run(phase(base, keys, over_websocket, o))
        lp = asyncio.run(phase(base, keys, over_long_poll, o))
        if not cross_instance:
            return ws, lp, None
        with central(url) as other:
            cross = asyncio.run(phase(other, keys, over_websocket, o, queue_at=base))
    return ws, lp, cross


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.link", description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--commands", type=int, default=400)
    # One at a time by default: the figure is the latency a command sees with 200 agents connected
    # (prompts are a few per window an hour); more at a time measures how many one process serves.
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--pg-url", default=os.environ.get("HALLWATCH_BENCH_DATABASE_URL"))
    run(parser.parse_args())


if __name__ == "__main__":
    main()
