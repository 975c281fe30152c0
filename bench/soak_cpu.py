"""Where the machine's cores went during the soak: CPU seconds of each part (central's instances,
PostgreSQL, nginx, the agents, the screens, this process with the halls' link), read from /proc. On a
small machine the load generators share the cores with what they load, so the report says how much of
it they took.

A part's figure is the sum over its processes (PostgreSQL's postmaster and backends, nginx's master and
workers) of the user and system time each used since it was first seen (from zero for one that started
later, like a restarted instance); a process that lived between two samples is missed (a little).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of `pid`, in seconds (None once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    """The direct children of `pid` (from each task's `children` list)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.extend(int(child) for child in task.read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def with_children(pid: int | None) -> list[int]:
    return [] if pid is None else [pid, *children(pid)]


class CpuMeter:
    """CPU seconds by part since the first sample; `groups` answers each part's current process ids."""

    def __init__(self, groups: Callable[[], Mapping[str, Iterable[int]]]) -> None:
        self.groups = groups
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._part: dict[int, str] = {}
        self._started = False

    def sample(self) -> None:
        for part, pids in self.groups().items():
            for pid in pids:
                used = cpu_seconds(pid)
                if used is None:
                    continue
                if pid not in self._first:
                    self._first[pid] = used if not self._started else 0.0
                    self._part[pid] = part
                self._last[pid] = used
        self._started = True

    def by_part(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for pid, last in self._last.items():
            part = self._part[pid]
            totals[part] = totals.get(part, 0.0) + last - self._first[pid]
        return totals
