"""The soak's figures from what its processes recorded: latencies by phase, recovery after each fault,
central's memory over the run, errors the faults do not explain.

A sample is a delivery that began at `start` and was done at `done` (None: never). Phases are cut by
the samples' start: the warm-up, each fault while it lasts, the GRACE_S after it, and the steady rest.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.soak_cluster import CentralInstance, rss_kb
from bench.soak_cpu import CpuMeter
from bench.soak_faults import GRACE_S, Fault
from bench.soak_plan import ErrorRecord, pause

logger = logging.getLogger(__name__)

TARGET_S = 1.0  # a press stored, a case on the screens: within a second outside a fault
RSS_EVERY_S = 2.0
Sample = tuple[str, float, float | None]


def latency(sample: Sample) -> float:
    _what, start, done = sample
    return math.inf if done is None else done - start


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank), NaN for none; an undelivered sample (inf) sorts last."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True)
class Phase:
    name: str
    start: float
    end: float
    fault: Fault | None = None

    def holds(self, t: float) -> bool:
        return self.start <= t < self.end


def phases(t0: float, t_end: float, warm_up: float, faults: Sequence[Fault]) -> list[Phase]:
    """Warm-up, then for each fault: the steady time before it, the fault, the GRACE_S after it."""
    cut = [Phase("warm-up", t0, t0 + warm_up)]
    at = t0 + warm_up
    starts = [f.start for f in faults if f.start is not None]
    for n, fault in enumerate(faults):
        assert fault.start is not None and fault.end is not None
        if fault.start > at:
            cut.append(Phase("steady", at, fault.start))
        after = min([fault.end + GRACE_S, t_end, *starts[n + 1 : n + 2]])
        cut.append(Phase(fault.name, fault.start, fault.end, fault))
        cut.append(Phase(f"  ≤ {after - fault.end:.0f} s after", fault.end, after, fault))
        at = after
    if t_end > at:
        cut.append(Phase("steady", at, t_end))
    return cut


def steady(sample_start: float, cut: Sequence[Phase]) -> bool:
    return any(p.name == "steady" and p.holds(sample_start) for p in cut)


def recovery(fault: Fault, following: float, samples: Sequence[Sample]) -> float:
    """Seconds from the fault's end until the last delivery slower than TARGET_S among those begun from
    its start until `following` (the next fault, or the run's end) was done; 0 when none was slow, inf
    when one never was."""
    assert fault.start is not None and fault.end is not None
    slow_done = [
        s[2] if s[2] is not None else math.inf
        for s in samples
        if fault.start <= s[1] < following and latency(s) > TARGET_S
    ]
    return max(0.0, max(slow_done, default=fault.end) - fault.end)


def unexplained(errors: Sequence[ErrorRecord], faults: Sequence[Fault]) -> list[ErrorRecord]:
    return [e for e in errors if not any(f.covers(e) for f in faults)]


@dataclass
class Gauges:
    """Central's resident memory (per instance, by process id), the load average and the CPU each part
    of the soak used, sampled."""

    cpu: CpuMeter
    rss: list[tuple[float, str, int, int]] = field(default_factory=list)  # (t, instance, pid, KB)
    load: list[tuple[float, float]] = field(default_factory=list)

    async def sample(self, instances: Sequence[CentralInstance], stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.cpu.sample()
            now = time.monotonic()
            for instance in instances:
                pid = instance.pid
                kb = rss_kb(pid) if pid is not None else None
                if pid is not None and kb is not None:
                    self.rss.append((now, instance.name, pid, kb))
            self.load.append((now, os.getloadavg()[0]))
            await pause(stop, RSS_EVERY_S)

    def mean_load(self, phase: Phase) -> float:
        values = [load for t, load in self.load if phase.holds(t)]
        return sum(values) / len(values) if values else math.nan

    def growth(
        self, instance: str, after: float, until: float, window: float
    ) -> tuple[float, float, float] | None:
        """(KB just after `after`, KB at `until`, growth %) of the instance's process that lived over the
        whole span (means over `window` seconds at each end); None when no process of it did."""
        pids = {pid for t, name, pid, _ in self.rss if name == instance and t <= after}
        for pid in pids:
            mine = [(t, kb) for t, name, p, kb in self.rss if p == pid]
            if not mine or mine[-1][0] < until - 2 * RSS_EVERY_S:
                continue
            first = [kb for t, kb in mine if after <= t < after + window]
            last = [kb for t, kb in mine if until - window <= t <= until]
            if first and last:
                begin, end = sum(first) / len(first), sum(last) / len(last)
                return begin, end, (end - begin) / begin * 100
        return None
