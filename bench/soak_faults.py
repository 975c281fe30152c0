"""The soak's faults, one after another on a schedule spread over the run, and which errors each explains.

After a warm-up the rest of the run is cut into one slot per fault; each fault starts at its slot's
start and lasts a quarter of the slot (3 to 60 s), leaving the rest to recover in before the next:

- **central killed**: instance A gets SIGKILL, stays down for the fault's length, is started again on
  its port; the fault ends when it answers /healthz. Explains broken connections and 5xx anywhere.
- **PostgreSQL restarted**: `pg_ctl stop -m fast`, down for up to 5 s, `pg_ctl start`. Explains 5xx and
  broken connections (requests that needed the database).
- **link cut**: the halls' TCP proxy resets every connection and refuses new ones, then listens again.
  Explains broken connections on the halls' link only.
- **disk full**: the disk agent's outbox file system is filled, then emptied. Explains that outbox's
  refusals only.

An error is explained when one of these is under way or ended less than GRACE_S ago (as long as the
latency targets allow for recovery).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.soak_plan import ErrorRecord

logger = logging.getLogger(__name__)

GRACE_S = 30.0
POSTGRES_DOWN_MAX_S = 5.0


@dataclass
class Fault:
    key: str
    name: str
    explains: Callable[[ErrorRecord], bool]
    inject: Callable[[], Awaitable[None]]
    repair: Callable[[], Awaitable[None]]
    hold: float | None = None  # how long it lasts, when not the schedule's length
    start: float | None = None  # monotonic, once run
    end: float | None = None
    notes: list[str] = field(default_factory=list)

    def covers(self, error: ErrorRecord) -> bool:
        if self.start is None or self.end is None:
            return False
        return self.start <= error.t <= self.end + GRACE_S and self.explains(error)


def explains_central(error: ErrorRecord) -> bool:
    return error.kind in ("transport", "http_5xx")


def explains_postgres(error: ErrorRecord) -> bool:
    return error.kind in ("transport", "http_5xx")


def explains_link(error: ErrorRecord) -> bool:
    return error.kind == "transport" and error.route == "link"


def explains_disk(error: ErrorRecord) -> bool:
    return error.kind == "outbox_full" and error.source == "outbox"


@dataclass(frozen=True)
class Schedule:
    warm_up: float
    slot: float
    length: float

    @classmethod
    def for_run(cls, seconds: float, faults: int) -> Schedule:
        warm_up = min(max(0.15 * seconds, 10.0), 300.0)
        slot = (seconds - warm_up) / max(faults, 1)
        return cls(warm_up=warm_up, slot=slot, length=min(max(0.25 * slot, 3.0), 60.0))


async def run_faults(faults: list[Fault], schedule: Schedule, t0: float) -> None:
    """Each fault at its slot's start (seconds after `t0`, monotonic), repaired after its length."""
    for n, fault in enumerate(faults):
        begin = t0 + schedule.warm_up + n * schedule.slot
        await asyncio.sleep(max(0.0, begin - time.monotonic()))
        fault.start = time.monotonic()
        logger.warning("fault: %s", fault.name)
        await fault.inject()
        hold = schedule.length if fault.hold is None else min(fault.hold, schedule.length)
        await asyncio.sleep(max(0.0, fault.start + hold - time.monotonic()))
        await fault.repair()
        fault.end = time.monotonic()
        logger.warning("fault over: %s (%.1f s)", fault.name, fault.end - fault.start)
