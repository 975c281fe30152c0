"""The soak's figures from what its processes recorded: latencies by phase, recovery after each fault,
central's memory over the run, errors the faults do not explain.

A sample is a delivery that began at `start` and was done at `done` (None: never). Phases are cut by
the samples' start: the warm-up, each fault while it lasts, the GRACE_S after it, and the steady rest.
A delivery still in flight, and not yet late, when a fault began is that fault's (`overtaken`): a press
made half a second before the link is cut waits for the link like the presses during the cut. Counted
with the phase it began in, it made a 3-second steady phase's p99 20 s, and the recovery of the fault
before it end only after this one had.
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


def overtaken(sample: Sample, fault_start: float) -> bool:
    """In flight when a fault began at `fault_start`, and then no older than TARGET_S: the fault's."""
    _what, start, done = sample
    return start < fault_start < (math.inf if done is None else done) and fault_start - start <= TARGET_S


def phase_of(sample: Sample, cut: Sequence[Phase]) -> Phase | None:
    """The phase the sample began in, or the fault's that overtook it there."""
    for n, phase in enumerate(cut):
        if phase.holds(sample[1]):
            following = cut[n + 1] if n + 1 < len(cut) else None
            if (
                following is not None
                and following.fault is not None
                and following.name == following.fault.name  # the fault itself, not the time after it
                and overtaken(sample, following.start)
            ):
                return following
            return phase
    return None


def steady(sample: Sample, cut: Sequence[Phase]) -> bool:
    found = phase_of(sample, cut)
    return found is not None and found.name == "steady"


def recovery(fault: Fault, following: float, samples: Sequence[Sample], *, next_fault: bool) -> float:
    """Seconds from the fault's end until the last delivery slower than TARGET_S among those begun from
    its start until `following` (the next fault's start, or the run's end) was done; 0 when none was
    slow, inf when one never was. With a next fault, a delivery it overtook is its own, and one already
    late when it began counts as done then: this fault's recovery lasted at least that long."""
    assert fault.start is not None and fault.end is not None
    slow_done = []
    for s in samples:
        if not fault.start <= s[1] < following or latency(s) <= TARGET_S:
            continue
        done = math.inf if s[2] is None else s[2]
        if next_fault:
            if overtaken(s, following):
                continue
            done = min(done, following)
        slow_done.append(done)
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
