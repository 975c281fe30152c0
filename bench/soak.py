"""Benchmark: the soak (issue 20) — a province's traffic on loopback for `--minutes`, with faults injected
on a schedule, and nothing lost.

    .venv/bin/python -m bench.soak [--minutes 3] [--agents 200] [--displays 2000] [--windows 50]
                                   [--cases-per-second 3] [--inspectors 4] [--keep]

`make bench` runs 3 minutes; the closing note's run is `--minutes 60`. Everything is started here, in a
temporary directory, on free loopback ports:

- a PostgreSQL cluster of its own (`initdb`/`pg_ctl` of the Debian packages: restarting it is one of
  the faults, and must never touch the machine's shared server), seeded with `--agents` halls of
  `--windows` windows (bench/soak_seed.py);
- `hallwatch jobs` running the periodic jobs, and two `hallwatch serve` instances with production's
  settings (deploy/env/central.env.example), behind nginx terminating TLS with the SHIPPED site
  (deploy/nginx/hallwatch.conf rendered by deploy/render.py; a test CA from trustme), bench/soak_nginx.py;
- the halls' link: a TCP proxy in this process between the halls and nginx (bench/soak_link.py);
- `--agents` hall agents in one process (bench/soak_agents.py): the real edge outbox and uploader each,
  a WebSocket channel each, presses, camera observations and evidence at a hall's rates; one of them
  with its outbox on a 16 MB tmpfs of its own (bench/soak_cluster.py `small_disk`);
- `--displays` hall screens on the SSE feed through the link, the case system pushing new cases, and
  `--inspectors` inspectors on the console and the API, in another process (bench/soak_clients.py);
- the faults, one per slot after a warm-up (bench/soak_faults.py): central instance A killed and
  started again, PostgreSQL restarted, the link cut and restored, the disk agent's disk filled.

At the end the agents drain their outboxes, and every observation an outbox took is looked up at central
(bench/soak_report.py). Prints the load average and the machine speed before and after, a table by phase,
and ends with RESULT lines: observations lost and duplicated (0), p99 press → stored and case event →
on a screen outside the faults (≤ 1 s), the longest recovery to that after a fault (≤ 30 s), central's
memory growth after the warm-up (the instance that ran throughout; ≤ 10 %), screens that never got a
case (0) and errors no fault explains (0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import uvloop
from rich.console import Console

from bench.common import load_average, machine_speed_ms
from bench.soak_cluster import CentralInstance, JobsProcess, PostgresCluster, small_disk
from bench.soak_cpu import CpuMeter, with_children
from bench.soak_faults import (
    POSTGRES_DOWN_MAX_S,
    Fault,
    Schedule,
    explains_central,
    explains_disk,
    explains_link,
    explains_postgres,
    run_faults,
)
from bench.soak_link import Link
from bench.soak_metrics import Gauges, phases
from bench.soak_nginx import Nginx
from bench.soak_plan import (
    AgentsPlan,
    AgentsResult,
    ClientsPlan,
    ClientsResult,
    DiskPlan,
    HallPlan,
    Rates,
    load,
    save,
)
from bench.soak_report import ledger, results, table, verdict
from bench.soak_seed import INSPECTOR, PASSWORD, SUPERVISOR, seed
from tests.deploy.stack import TlsFiles, issue_tls

console = Console(width=None if sys.stdout.isatty() else 120)  # the phase table, unwrapped in a log
logger = logging.getLogger(__name__)
SAVE_TIMEOUT_S = 300.0


@dataclass
class Servers:
    root: Path
    tls: TlsFiles
    cluster: PostgresCluster
    instances: list[CentralInstance]
    jobs: JobsProcess
    nginx: Nginx
    halls: list[HallPlan]
    disk: DiskPlan


@dataclass
class Run:
    t0: float
    t_end: float
    schedule: Schedule
    faults: list[Fault]
    gauges: Gauges
    agents: AgentsResult
    clients: ClientsResult


def central_env(database_url: str) -> dict[str, str]:
    """Production's settings (deploy/env/central.env.example) where they matter on loopback: the periodic
    jobs at their default intervals (the test suite's environment turns them off), in `hallwatch jobs`."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not (name.startswith("HALLWATCH_") and name.endswith("_INTERVAL_SECONDS"))
    }
    return {
        **inherited,
        "HALLWATCH_SERVE_RUNS_JOBS": "false",
        "HALLWATCH_DATABASE_URL": database_url,
        "HALLWATCH_FORWARDED_ALLOW_IPS": "127.0.0.1",
        "HALLWATCH_MAX_BODY_BYTES": "20971520",
        "HALLWATCH_COMPLAINT_CHALLENGE_SECRET": "soak-" + "0123456789abcdef" * 2,
    }


class Child:
    """A client process of the soak, spoken to by lines on its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process, self.name = process, name

    @classmethod
    async def start(cls, module: str, plan: Path, result: Path, log: Path, env: dict[str, str]) -> Child:
        with log.open("ab") as errors:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", module, str(plan), str(result), env=env,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=errors,
            )  # fmt: skip
        return cls(process, module)

    async def line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not raw:
            raise SystemExit(f"{self.name} stopped; see its log")
        return raw.decode().strip()

    async def tell(self, command: str, timeout: float = 120.0) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()
        return await self.line(timeout)


def make_faults(servers: Servers, link: Link, agents: Child) -> list[Fault]:
    a = servers.instances[0]

    async def kill() -> None:
        await asyncio.to_thread(a.kill)

    async def restart() -> None:
        a.start()
        await asyncio.to_thread(a.wait_ready)

    async def fill() -> None:
        await agents.tell("disk-full")

    async def empty() -> None:
        await agents.tell("disk-free")

    async def postgres_down() -> None:
        await asyncio.to_thread(servers.cluster.stop)

    async def postgres_up() -> None:
        await asyncio.to_thread(servers.cluster.start)

    async def cut() -> None:
        await link.cut()

    return [
        Fault("central_kill", "central A killed", explains_central, kill, restart),
        Fault(
            "postgres_restart",
            "PostgreSQL restarted",
            explains_postgres,
            postgres_down,
            postgres_up,
            hold=POSTGRES_DOWN_MAX_S,
        ),
        Fault("link_cut", "halls' link cut", explains_link, cut, link.open),
        Fault("disk_full", "an edge disk full", explains_disk, fill, empty),
    ]


async def soak(o: argparse.Namespace, servers: Servers) -> Run:
    root = servers.root
    link = Link(servers.nginx.https_port)
    await link.open()
    rates = Rates(health_every_seconds=o.health_every or None)
    save(AgentsPlan(url=link.url, ca=servers.tls.ca, halls=servers.halls, rates=rates, workdir=root / "agents",
                    disk=servers.disk, seed=o.seed), root / "agents-plan.json")  # fmt: skip
    save(ClientsPlan(link_url=link.url, direct_url=servers.nginx.url, ca=servers.tls.ca, halls=servers.halls,
                     displays=o.displays, cases_per_second=o.cases_per_second, inspectors=o.inspectors,
                     inspector_username=INSPECTOR, supervisor_username=SUPERVISOR, password=PASSWORD,
                     seed=o.seed), root / "clients-plan.json")  # fmt: skip
    env = {**os.environ, "SSL_CERT_FILE": str(servers.tls.ca)}  # what a hall with a private CA sets
    children: list[Child] = []
    try:
        for module, name in (("bench.soak_agents", "agents"), ("bench.soak_clients", "clients")):
            plan, result, log = (root / f"{name}{suffix}" for suffix in ("-plan.json", ".json", ".log"))
            children.append(await Child.start(module, plan, result, log, env))
        agents, clients = children
        return await soak_with(o, servers, link, agents, clients)
    finally:
        for child in children:
            if child.process.returncode is None:
                child.process.kill()
                await child.process.wait()
        await link.close()


def parts(servers: Servers, agents: Child, clients: Child) -> dict[str, list[int]]:
    """The processes of each part of the soak now (for its CPU figures)."""
    a, b = servers.instances
    return {
        "central A": with_children(a.pid),
        "central B": with_children(b.pid),
        "central jobs": with_children(servers.jobs.pid),
        "PostgreSQL": with_children(servers.cluster.pid),
        "nginx": with_children(servers.nginx.process.pid if servers.nginx.process else None),
        "agents": [agents.process.pid],
        "screens, cases, inspectors": [clients.process.pid],
        "orchestrator and the link": [os.getpid()],
    }


async def soak_with(
    o: argparse.Namespace, servers: Servers, link: Link, agents: Child, clients: Child
) -> Run:
    started = time.monotonic()
    console.print(f"agents: {await agents.line(300)} channels open")
    console.print(f"screens: {await clients.line(600)} streams open ({time.monotonic() - started:.0f} s)")
    seconds = o.minutes * 60
    faults = make_faults(servers, link, agents)
    schedule = Schedule.for_run(seconds, len(faults))
    gauges, stop = Gauges(CpuMeter(lambda: parts(servers, agents, clients))), asyncio.Event()
    t0 = time.monotonic()
    sampler = asyncio.create_task(gauges.sample(servers.instances, stop))
    console.print(f"soak: {seconds:.0f} s, warm-up {schedule.warm_up:.0f} s, a fault every {schedule.slot:.0f} s "
                  f"lasting {schedule.length:.0f} s")  # fmt: skip
    await run_faults(faults, schedule, t0)
    await asyncio.sleep(max(0.0, t0 + seconds - time.monotonic()))
    t_end = time.monotonic()
    console.print("stopping: the agents drain their outboxes, the screens settle")
    await asyncio.gather(agents.tell("stop", SAVE_TIMEOUT_S), clients.tell("stop", SAVE_TIMEOUT_S))
    await asyncio.gather(agents.process.wait(), clients.process.wait())
    stop.set()
    await sampler
    root = servers.root
    return Run(t0, t_end, schedule, faults, gauges, load(AgentsResult, root / "agents.json"),
               load(ClientsResult, root / "clients.json"))  # fmt: skip


def backfill_scores(url: str) -> None:
    """Score the weeks before the seed's today once, before the run: a deployment scores each day once,
    the night after; left to `serve`, both instances would spend the run's first minutes on a month's
    backlog (10,600 subjects a day) instead of on the halls' traffic."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "central.cli", "scores", "run"],
        env=central_env(url), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"scores run failed:\n{done.stdout}\n{done.stderr}")
    console.print(f"scores: the days before the run scored ({time.monotonic() - started:.0f} s)")


def start_servers(o: argparse.Namespace, root: Path, stack: ExitStack) -> Servers:
    started = time.monotonic()
    tls = issue_tls(root)
    cluster = PostgresCluster(root)
    stack.callback(cluster.destroy)
    cluster.create()
    halls = seed(cluster.url, halls=o.agents, windows=o.windows, displays=o.displays)
    console.print(f"PostgreSQL {cluster.port}: {o.agents} halls × {o.windows} windows, {o.displays} screens "
                  f"seeded ({time.monotonic() - started:.0f} s)")  # fmt: skip
    backfill_scores(cluster.url)
    instances = [
        CentralInstance(name, central_env(cluster.url), root / f"central-{name}.log") for name in "AB"
    ]
    for instance in instances:
        stack.callback(instance.stop)
        instance.start()
    for instance in instances:
        instance.wait_ready()
    jobs = JobsProcess(central_env(cluster.url), root / "jobs.log")
    stack.callback(jobs.stop)
    jobs.start()
    nginx = Nginx(root / "nginx", tls, [i.upstream for i in instances])
    stack.callback(nginx.stop)
    nginx.start()
    mode = stack.enter_context(small_disk(root / "disk"))
    console.print(f"central A :{instances[0].port}, B :{instances[1].port} behind nginx {nginx.url}; "
                  f"the disk agent's outbox on {mode}")  # fmt: skip
    return Servers(
        root,
        tls,
        cluster,
        instances,
        jobs,
        nginx,
        halls,
        DiskPlan(hall=0, directory=root / "disk", mode=mode),
    )


def report(o: argparse.Namespace, servers: Servers, run: Run) -> None:
    counted = ledger(servers.cluster.url, run.agents.sent, run.agents.pending)
    a, c = run.agents, run.clients
    console.print(
        f"observations: {counted.sent} taken by the outboxes, {counted.stored} held by central, {counted.lost} "
        f"lost, {counted.undelivered} still in their outbox (not delivered within the drain), {counted.duplicated} "
        f"duplicated, {counted.unsent} stored without an outbox taking it; {a.answered_duplicate} re-sent and "
        f"answered duplicate, {a.rejected} rejected, {a.refused_by_outbox} refused by the full outbox; "
        f"{a.channel_opens} channel opens; the "
        f"disk agent's press: {', '.join(a.disk_probes) or 'not tried'}"
    )
    console.print(
        f"screens: {c.cases_pushed} cases pushed, {len(c.samples)} deliveries due, {c.reconnects} reconnects, "
        f"{c.snapshots} snapshots after a reconnect; inspectors: {c.inspector_requests} requests"
    )
    used = run.gauges.cpu.by_part()
    cores = (os.cpu_count() or 1) * (run.t_end - run.t0)
    console.print(
        f"CPU over the soak, of {cores:.0f} core-seconds: "
        + ", ".join(f"{part} {seconds:.0f}" for part, seconds in used.items())
        + f" (all of these {sum(used.values()) / cores:.0%}; the rest idle or other work on the machine)"
    )
    cut = phases(run.t0, run.t_end, run.schedule.warm_up, run.faults)
    presses = [s for s in a.samples if s[0] == "keypad_press"]
    console.print(table(cut, presses, c.samples, a, c, run.faults, run.gauges))
    window = max(10.0, 0.1 * (run.t_end - run.t0))
    after = run.t0 + run.schedule.warm_up
    for instance in servers.instances:
        grown = run.gauges.growth(instance.name, after, run.t_end, window)
        if grown is not None:
            console.print(
                f"central {instance.name}: {grown[0] / 1024:.0f} → {grown[1] / 1024:.0f} MB ({grown[2]:+.1f} %)"
            )
        else:
            console.print(f"central {instance.name}: restarted during the run (its memory is not compared)")
    lines = results(console=console, cut=cut, t_end=run.t_end, presses=presses, shown=c.samples,
                    faults=run.faults, counted=counted, agents=a, clients=c,
                    growth=run.gauges.growth("B", after, run.t_end, window))  # fmt: skip
    console.print(f"load average {load_average()}, machine speed {machine_speed_ms():.0f} ms")
    if o.json is not None:
        o.json.write_text(
            json.dumps(verdict(counted, a, c, run.faults), ensure_ascii=False), encoding="utf-8"
        )
    for line in lines:
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=float, default=3.0, help="Length of the soak (60 for the closing note)."
    )
    parser.add_argument("--agents", type=int, default=200, help="Halls, each with its edge agent.")
    parser.add_argument("--displays", type=int, default=2000, help="Hall screens, spread over the halls.")
    parser.add_argument("--windows", type=int, default=50, help="Windows per hall (a keypad each).")
    parser.add_argument(
        "--cases-per-second", type=float, default=3.0, help="New cases pushed by the case system."
    )
    parser.add_argument("--inspectors", type=int, default=4)
    parser.add_argument(
        "--health-every",
        type=float,
        default=0,
        help="Keypad and camera health reports this often (s); 0: none.",
    )
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--json", type=Path, help="Also write the counts (lost, duplicated, errors) here.")
    parser.add_argument(
        "--keep", action="store_true", help="Keep the scratch directory (logs) and say where."
    )
    o = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the link holds every hall's connections twice
    console.print(f"load average {load_average()}, machine speed {machine_speed_ms():.0f} ms")
    scratch = Path(tempfile.mkdtemp(prefix="hallwatch-soak-"))
    scratch.chmod(0o711)  # PostgreSQL and nginx's workers run as other users, in directories under it
    try:
        with ExitStack() as stack:
            servers = start_servers(o, scratch, stack)
            run = uvloop.run(soak(o, servers))
            for instance in servers.instances:
                instance.stop()
            report(o, servers, run)
    finally:
        if o.keep:
            console.print(f"logs and files kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
