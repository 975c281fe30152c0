"""One thread per app runs every periodic job when it is due.

A `Job` is a name, an interval and `run(factory, clock, settings)`. Each job runs once at start-up
(catching up whatever a downtime missed) and then `interval` seconds after its previous run ended.
A thread, not the event loop: a signal pass over a million cases is seconds of blocking database
work. A failing run is logged and retried at the job's next tick; it never stops the other jobs,
the thread or the server. Several central instances each run one runner: a shared job's pass is
claimed by one of them (central.jobs.claims), so the deployment does it once per interval, and an
instance that restarts does not repeat what another did a moment ago. Every job is still written to
be safe when run concurrently (see each job's module): a claim saves work, it guards nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from central.core.clock import Clock
from central.core.config import Settings
from central.jobs.claims import JobClaims, NotDue, wall_clock

logger = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 60.0  # how long shutdown waits for a run in progress to finish

JobFn = Callable[[sessionmaker[Session], Clock, Settings], object]


def instance_name() -> str:
    """Which central process ran a pass (stored on each `SignalRun`, for instance)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Job:
    name: str
    interval: float  # seconds from the end of one run to the start of the next
    run: JobFn
    # Database work any instance may do for all (claimed); False for one each instance does itself
    # (audit checkpoints, signed into the instance's own directory).
    shared: bool = True

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError(f"job {self.name} needs a positive interval, not {self.interval}")


@dataclass
class JobStats:
    runs: int = 0  # attempted, failed ones included
    failures: int = 0
    skipped: int = 0  # due here, but another instance ran the pass lately or runs it now


class JobRunner:
    """Runs `jobs` in one daemon thread from `start()` until `stop()`; `run_now` runs one by hand."""

    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        factory: sessionmaker[Session],
        clock: Clock,
        settings: Settings,
        name: str = "central-jobs",
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self.jobs = tuple(jobs)
        self._factory, self._clock, self._settings = factory, clock, settings
        self._stats = {job.name: JobStats() for job in jobs}
        self._claims = JobClaims(factory, runner=instance_name())
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    @property
    def names(self) -> list[str]:
        return [job.name for job in self.jobs]

    def stats(self, name: str) -> JobStats:
        return self._stats[name]

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        """Start the thread; with no jobs there is nothing to run and no thread."""
        if not self.jobs:
            return
        self._thread.start()
        logger.info("jobs started: %s", ", ".join(f"{j.name} every {j.interval:g} s" for j in self.jobs))

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Ask the thread to end and wait for a run in progress (up to `timeout`)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("jobs still busy after %s s; leaving the thread to exit", timeout)
        for name, stats in self._stats.items():
            logger.info(
                "job %s stopped after %d runs (%d failed, %d left to other instances)",
                name, stats.runs, stats.failures, stats.skipped,
            )  # fmt: skip

    def run_now(self, name: str) -> JobStats:
        """One run of a job in the caller's thread, failures logged like the thread's."""
        [job] = [job for job in self.jobs if job.name == name]
        self._run(job)
        return self._stats[name]

    def _loop(self) -> None:
        due = dict.fromkeys(self.names, time.monotonic())  # every job once at start-up
        while not self._stopping.is_set():
            for job in self.jobs:
                if self._stopping.is_set():
                    break
                if due[job.name] <= time.monotonic():
                    due[job.name] = time.monotonic() + self._pass(job)
            self._stopping.wait(max(min(due.values()) - time.monotonic(), 0.0))

    def _pass(self, job: Job) -> float:
        """The job's pass, if it is this instance's to run; the seconds until it looks again."""
        if not job.shared:
            self._run(job)
            return job.interval
        try:
            outcome = self._claims.claim(job.name, interval=job.interval)
        except Exception:
            logger.warning(
                "could not claim job %s; trying again in %s s", job.name, job.interval, exc_info=True
            )
            return job.interval
        if isinstance(outcome, NotDue):  # another instance ran it lately, or runs it now
            self._stats[job.name].skipped += 1
            return max((outcome.due_at - wall_clock()).total_seconds(), min(job.interval, 1.0))
        with self._claims.renewed(job.name, outcome.token):
            succeeded = self._run(job)
        try:
            self._claims.finish(job.name, outcome.token, succeeded=succeeded)
        except Exception:  # the lease lapses by itself; the pass's work is done and kept
            logger.warning("could not record the end of job %s's pass", job.name, exc_info=True)
        return job.interval

    def _run(self, job: Job) -> bool:
        """Any error is logged, never raised: the job's next tick tries again. Answers whether it ran clean."""
        stats = self._stats[job.name]
        stats.runs += 1
        try:
            job.run(self._factory, self._clock, self._settings)
        except Exception:
            stats.failures += 1
            logger.exception("job %s failed; retrying in %s s", job.name, job.interval)
            return False
        return True
