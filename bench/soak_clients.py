"""The soak's screens, case system and inspectors in one process (started by bench/soak.py):

    python -m bench.soak_clients PLAN.json RESULT.json      (stdin: stop)

Prints `ready N` once the screens hold their streams; on `stop` the pushes and inspectors end, the
screens get up to SETTLE_S to receive what was pushed, and every (screen, case) pair is written out:
pushed at, first received at (None: never). The open-files limit is raised to the hard limit.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import resource
import ssl
import sys
import time
from pathlib import Path

import uvloop

from bench.soak_displays import Screens, open_screens
from bench.soak_plan import ClientsPlan, ClientsResult, load, save
from bench.soak_tally import Tally
from bench.soak_traffic import CasePusher, Inspector
from central.core.warmup import GC_THRESHOLDS

logger = logging.getLogger(__name__)

SETTLE_S = 30.0


def raise_open_files() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def run(plan: ClientsPlan, out: Path) -> None:
    tally = Tally()
    context = ssl.create_default_context(cafile=str(plan.ca))
    screens = Screens(tally)
    link_port = int(plan.link_url.rsplit(":", 1)[1])
    opened = await open_screens(screens, plan.halls, link_port, context)
    gc.freeze()  # as central does (central/core/warmup.py): thousands of long-lived streams
    gc.set_threshold(*GC_THRESHOLDS)
    stop = asyncio.Event()
    pusher = CasePusher(plan, context, tally)
    inspectors = [Inspector(plan, context, tally, plan.seed + n) for n in range(plan.inspectors)]
    tasks = [asyncio.create_task(pusher.run(stop)), *(asyncio.create_task(i.run(stop)) for i in inspectors)]
    print(f"ready {screens.connected}", flush=True)
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    while (await reader.readline()).decode().strip() not in ("stop", ""):
        pass
    stop.set()
    await asyncio.gather(*tasks)
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline and not all_arrived(screens, pusher.pushed, plan):
        await asyncio.sleep(0.5)
    screens.stopping = True
    for screen in opened:
        screen.close()
    samples: list[tuple[str, float, float | None]] = []
    screens_of: dict[str, list[int]] = {hall.code: [] for hall in plan.halls}  # hall → its screens' indices
    for screen in opened:
        screens_of[screen.hall.code].append(screen.index)
    for case_no, (hall, pushed) in pusher.pushed.items():
        arrived = screens.arrivals[hall].get(case_no, {})
        samples.extend((hall, pushed, arrived.get(index)) for index in screens_of[hall])
    result = ClientsResult(
        samples=samples,
        errors=tally.errors,
        cases_pushed=len(pusher.pushed),
        snapshots=screens.snapshots,
        reconnects=screens.reconnects,
        inspector_requests=sum(i.requests for i in inspectors),
    )
    save(result, out)
    print("saved", flush=True)


def all_arrived(screens: Screens, pushed: dict[str, tuple[str, float]], plan: ClientsPlan) -> bool:
    per_hall = {hall.code: len(hall.display_keys) for hall in plan.halls}
    return all(
        len(screens.arrivals[hall].get(case_no, {})) == per_hall[hall]
        for case_no, (hall, _) in pushed.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak_clients", description=__doc__.splitlines()[0])
    parser.add_argument("plan", type=Path)
    parser.add_argument("result", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    raise_open_files()
    uvloop.run(run(load(ClientsPlan, args.plan), args.result))


if __name__ == "__main__":
    main()
