"""The soak's hall agents: one simulated edge agent per hall, all in this process, started by bench/soak.py.

    python -m bench.soak_agents PLAN.json RESULT.json     (commands on stdin: disk-full, disk-free, stop)

Each agent is made of the edge's real parts where they carry the guarantees the soak checks: its own
`edge.outbox.Outbox` (SQLite, one fsync per put) and `edge.uploader.Uploader` (batches, the real retries
and backoff after a fault, central's answers settling each row) with the edge's own HTTP client
(`edge.central.make_client`) and the edge config's defaults. The command channel is an asyncio client
speaking the channel's messages (`common.device_channel`: hello, ack, ping/pong, reconnects with the
edge's jittered doubling delay), since the edge's own channel is a thread per agent and needs a keypad
hand-over behind it. The producers draw each kind of observation as a Poisson process at the plan's
rates (`bench.soak_observations`); each put runs on a worker thread (an fsync must not stall the
channels). All of it talks to central through the halls' link, the TCP proxy the soak cuts.

One agent's outbox lies on a small file system of its own (`DiskPlan`), which the orchestrator fills and
empties: the outbox refuses new work loudly (`OutboxFull`, counted here), keeps what it has and goes on.

Why not Locust: its users are gevent greenlets making request/response calls; these clients hold a
WebSocket or an SSE stream for the whole run and wait on what central sends, and the agents' uploads
must be the edge's own code (threads and httpx) for the retries to be the real ones. asyncio clients,
as bench/link.py and bench/displays.py already use, fit that shape and cost less on two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import random
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import uvloop
from pydantic import BaseModel
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from bench.soak_observations import TRACKED, HallObservations, hourly_rates, snapshots
from bench.soak_plan import AgentsPlan, AgentsResult, DiskPlan, HallPlan, load, pause, save
from bench.soak_tally import CountingOutbox, Tally, error_kind
from common.device_channel import CHANNEL_PATH, TO_AGENT, Ack, AgentPing, Commands, Hello, Ping, Pong
from edge.central import USER_AGENT, make_client
from edge.channel import FIRST_RECONNECT_S
from edge.config import CentralConfig, OutboxConfig
from edge.outbox_space import OutboxFull, SpacePolicy
from edge.uploader import Uploader

logger = logging.getLogger(__name__)

TICK_S = 0.05
PUT_THREADS = 8
DRAIN_TIMEOUT_S = 180.0
MB = 1024 * 1024
# The disk agent's outbox's space policy on its small file system (the edge config's reserve_mb and
# spare_mb, scaled to soak_cluster.SMALL_DISK_MB as tests/edge/test_disk_full.py does).
DISK_RESERVE_MB, DISK_SPARE_MB = 6, 2
MAX_PAGES = 1073741823  # SQLite's own ceiling: no limit
PROBE_PRESSES_MAX = 20_000  # ~300 bytes each: more than the freed pages of any outbox on the small disk


class SoakAgent:
    def __init__(
        self, plan: HallPlan, outbox: CountingOutbox, central: CentralConfig, obs: HallObservations
    ) -> None:
        self.plan = plan
        self.device = str(plan.device_id)
        self.outbox = outbox
        self.tally = outbox.tally
        self.client = make_client(central, plan.edge_key)
        self.client.event_hooks["response"] = [self.tally.answered]
        settings = OutboxConfig()
        self.uploader = Uploader(
            outbox, self.client, batch_size=settings.batch_size, batch_max_bytes=settings.batch_max_bytes,
            initial_backoff_seconds=settings.initial_backoff_seconds,
            max_backoff_seconds=settings.max_backoff_seconds,
        )  # fmt: skip
        self.observations = obs
        self.connected = False
        self.opens = 0
        self._put_lock = threading.Lock()  # one producer at a time per hall (its ids' counters)

    def put(self, kind: str, at: float) -> bool:
        """Make one observation and store it, as a producer does (on a worker thread); False when the
        outbox refused it (its disk is full)."""
        with self._put_lock:
            observation = self.observations.make(kind)
            try:
                self.outbox.put(observation)
            except OutboxFull:
                self.tally.refused_put(f"{self.plan.code} {kind} {observation['id']}")
                return False
            if kind in TRACKED:
                self.tally.put(self.device, str(observation["id"]), kind, at)
            return True

    async def hold_channel(
        self, url: str, context: ssl.SSLContext, central: CentralConfig, stop: asyncio.Event
    ) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                async with connect(
                    url, additional_headers={"X-Device-Key": self.plan.edge_key}, ssl=context,
                    user_agent_header=USER_AGENT, proxy=None, open_timeout=central.connect_timeout_seconds,
                    close_timeout=2, ping_interval=None, compression=None,
                ) as ws:  # fmt: skip
                    self.opens += 1
                    self.connected = True
                    self.uploader.nudge()  # as the edge agent's channel does (edge.agent)
                    attempt = 0
                    await self._session(ws, central.heartbeat_seconds, stop)
            except InvalidStatus as exc:
                self.tally.error("channel", error_kind(exc.response.status_code), f"{self.plan.code}: {exc}")
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
                if not stop.is_set():
                    self.tally.error("channel", "transport", f"{self.plan.code}: {type(exc).__name__}: {exc}")
            finally:
                self.connected = False
            attempt += 1
            cap = min(central.reconnect_max_seconds, FIRST_RECONNECT_S * 2.0 ** min(attempt - 1, 20))
            await pause(stop, random.uniform(0, cap))

    async def _session(self, ws: ClientConnection, heartbeat: float, stop: asyncio.Event) -> None:
        async def send(message: BaseModel) -> None:
            await ws.send(message.model_dump_json())

        await send(Hello(cursor=0))
        awaiting_pong = False
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), heartbeat)
            except TimeoutError:
                if awaiting_pong:
                    raise TimeoutError(f"no answer from central within {heartbeat:g} s") from None
                await send(Ping())
                awaiting_pong = True
                continue
            awaiting_pong = False
            message = TO_AGENT.validate_json(raw)
            if isinstance(message, Commands):
                await send(Ack(cursor=message.cursor))
            elif isinstance(message, AgentPing):
                await send(Pong())


class Disk:
    """The disk agent's file system: filled with a ballast file (tmpfs) or held at its pages (SQLite's
    page limit, where nothing can be mounted). After filling and after emptying it, a keypad press
    arrives at once: refused while full, stored once there is room (`probes`)."""

    def __init__(self, plan: DiskPlan, agent: SoakAgent) -> None:
        self.plan = plan
        self.agent = agent
        self.outbox = agent.outbox
        self.ballast = plan.directory / "ballast"
        self.probes: list[str] = []

    def fill(self) -> None:
        """Fill the disk, then press until the outbox refuses. Writes still fit in the pages SQLite
        freed as rows were delivered (tests/edge/test_disk_full.py finds it too), and an outbox that
        has run for an hour has freed a few MB of them: each press stored is one more to deliver."""
        self._fill()
        for stored in range(PROBE_PRESSES_MAX):
            if not self._press():
                self.probes.append(f"refused while full (after {stored} stored)")
                return
        self.probes.append(f"stored while full ({PROBE_PRESSES_MAX} presses)")

    def free(self) -> None:
        self._free()
        self.probes.append("stored after" if self._press() else "refused after")

    def _press(self) -> bool:
        return self.agent.put("keypad_press", time.monotonic())

    def _fill(self) -> None:
        if self.plan.mode == "page_limit":
            self._page_limit(None)
            return
        fd = os.open(self.ballast, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            stat = os.statvfs(self.plan.directory)
            os.posix_fallocate(fd, 0, max(1, stat.f_bavail * stat.f_frsize))
            os.lseek(fd, 0, os.SEEK_END)
            try:
                while True:  # what the allocation left, until the kernel says no
                    os.write(fd, b"\0" * 4096)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
        finally:
            os.close(fd)

    def _free(self) -> None:
        if self.plan.mode == "page_limit":
            self._page_limit(MAX_PAGES)
        else:
            self.ballast.unlink(missing_ok=True)

    def _page_limit(self, pages: int | None) -> None:
        """The database may not grow past `pages` (None: the pages it has now)."""
        conn = self.outbox._conn  # the bench's stand-in for a full disk, as tests/edge/test_outbox_full.py
        with self.outbox._lock:
            limit = conn.execute("PRAGMA page_count").fetchone()[0] if pages is None else pages
            conn.execute(f"PRAGMA max_page_count = {int(limit)}")


def make_agents(plan: AgentsPlan, tally: Tally) -> tuple[list[SoakAgent], Disk | None]:
    central = CentralConfig(url=plan.url)  # the edge's defaults, central's URL
    jpegs = snapshots(16, plan.seed)
    agents, disk = [], None
    for index, hall in enumerate(plan.halls):
        rng = random.Random(plan.seed * 10_000 + index)
        if plan.disk is not None and plan.disk.hall == index:
            space = SpacePolicy(reserve_bytes=DISK_RESERVE_MB * MB, spare_bytes=DISK_SPARE_MB * MB)
            if plan.disk.mode == "page_limit":
                space = SpacePolicy()
            outbox = CountingOutbox(plan.disk.directory / "outbox.db", space=space, tally=tally)
        else:  # a big disk: no reserve, no spare file (200 spare files would be gigabytes)
            outbox = CountingOutbox(plan.workdir / hall.code / "outbox.db", tally=tally)
        agents.append(SoakAgent(hall, outbox, central, HallObservations(hall, rng, jpegs)))
    if plan.disk is not None:
        disk = Disk(plan.disk, agents[plan.disk.hall])
    return agents, disk


async def produce(
    agents: list[SoakAgent], plan: AgentsPlan, pool: ThreadPoolExecutor, stop: asyncio.Event
) -> None:
    """Every kind as a Poisson process at the plan's rates, over all agents, in ticks of TICK_S."""
    loop = asyncio.get_running_loop()
    rates = hourly_rates(len(plan.halls[0].windows), **plan.rates.model_dump())
    kinds = list(rates)
    expected = np.array([rates[k] for k in kinds]) * len(agents) * TICK_S
    rng = np.random.default_rng(plan.seed)
    tick = loop.time()
    while not stop.is_set():
        at = time.monotonic()
        for kind, count in zip(kinds, rng.poisson(expected), strict=True):
            for index in rng.integers(0, len(agents), size=count):
                loop.run_in_executor(pool, agents[index].put, kind, at).add_done_callback(_put_failed)
        tick += TICK_S
        await asyncio.sleep(max(0.0, tick - loop.time()))


def _put_failed(done: asyncio.Future[bool]) -> None:
    """A put that raised (anything but a full disk, which `put` counts): said, not swallowed."""
    if not done.cancelled() and done.exception() is not None:
        logger.error("a producer's put failed", exc_info=done.exception())


async def run(plan: AgentsPlan, out: Path) -> None:
    tally = Tally()
    agents, disk = make_agents(plan, tally)
    central = CentralConfig(url=plan.url)
    context = ssl.create_default_context(cafile=str(plan.ca))
    url = "wss" + plan.url.removeprefix("https") + CHANNEL_PATH
    stop_channels, stop_producing = asyncio.Event(), asyncio.Event()
    for agent in agents:
        agent.uploader.start()
    channels = []
    for n, agent in enumerate(agents):
        channels.append(asyncio.create_task(agent.hold_channel(url, context, central, stop_channels)))
        if n % 20 == 19:
            await asyncio.sleep(0.05)  # halls come up over a moment, not in one instant
    deadline = time.monotonic() + 60
    while not all(a.connected for a in agents) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    pool = ThreadPoolExecutor(PUT_THREADS, thread_name_prefix="soak-put")
    producer = asyncio.create_task(produce(agents, plan, pool, stop_producing))
    print(f"ready {sum(a.connected for a in agents)}", flush=True)
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    while (line := (await reader.readline()).decode().strip()) not in ("stop", ""):
        if disk is not None and line == "disk-full":
            await asyncio.to_thread(disk.fill)
        elif disk is not None and line == "disk-free":
            await asyncio.to_thread(disk.free)
        print(f"done {line}", flush=True)
    stop_producing.set()
    await producer
    await asyncio.to_thread(pool.shutdown, wait=True)
    pending = await asyncio.to_thread(drain, agents)
    stop_channels.set()
    await asyncio.gather(*channels, return_exceptions=True)
    tally.unanswered()
    result = AgentsResult(
        sent=tally.sent,
        samples=tally.samples,
        errors=tally.errors,
        pending=pending,
        rejected=sum(a.outbox.counts().rejected for a in agents),
        answered_duplicate=tally.duplicates,
        channel_opens=sum(a.opens for a in agents),
        refused_by_outbox=tally.refused,
        disk_probes=disk.probes if disk is not None else [],
    )
    for agent in agents:
        agent.client.close()
        agent.outbox.close()
    save(result, out)
    print("saved", flush=True)


def drain(agents: list[SoakAgent]) -> dict[str, list[str]]:
    """Wait until every outbox has delivered all it holds (or DRAIN_TIMEOUT_S); stop the uploaders.
    Answers the ids still pending in each outbox (device id → ids): not delivered yet, not lost."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    for agent in agents:
        agent.uploader.drain(max(0.0, deadline - time.monotonic()))
    with ThreadPoolExecutor(len(agents)) as stopping:  # all at once: each may wait on a request in flight
        list(stopping.map(lambda agent: agent.uploader.stop(timeout=5), agents))
    pending = {agent.device: [p.id for p in agent.outbox.pending(10**9)] for agent in agents}
    return {device: ids for device, ids in pending.items() if ids}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak_agents", description=__doc__.splitlines()[0])
    parser.add_argument("plan", type=Path)
    parser.add_argument("result", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    uvloop.run(run(load(AgentsPlan, args.plan), args.result))


if __name__ == "__main__":
    main()
