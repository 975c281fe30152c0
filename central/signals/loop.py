"""Run the signal scheduler in the background of `hallwatch serve`, every few minutes.

A daemon thread (a run over a million cases takes seconds of blocking database work, which must not
stall the event loop) runs `run_signals` at start-up — catching up whatever a downtime missed — and
then every `settings.signal_interval_seconds`. A failing run is logged and retried at the next tick;
it never stops the thread or the server. Several central instances may each run one: the
scheduler is safe to run concurrently (see `central.signals.scheduler`). Each pass also purges
evidence snapshots past their retention (`central.video.evidence.purge_expired_evidence`, SC-18),
in a session of its own after the signals are committed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from central.calendar.service import load_calendar
from central.core.clock import Clock
from central.signals.scheduler import RunSummary, run_signals
from central.video.evidence import purge_expired_evidence

logger = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 60.0  # how long shutdown waits for a run in progress to finish


def instance_name() -> str:
    """Which central process ran a pass (stored on each `SignalRun`)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def scheduled_run(
    factory: sessionmaker[Session], *, clock: Clock, default_profile: str, instance: str
) -> Callable[[], RunSummary]:
    """One pass in a fresh session, with the app's clock and the calendar as it is now."""

    def run_once() -> RunSummary:
        with factory() as session:
            summary = run_signals(
                session,
                now=clock(),
                calendar=load_calendar(session),
                default_profile=default_profile,
                instance=instance,
            )
        with factory() as session:  # evidence past its retention goes on the same beat (SC-18)
            purge_expired_evidence(session, now=clock())
            session.commit()
        return summary

    return run_once


class SignalLoop:
    """Calls `run_once` now and then every `interval` seconds until `stop()`."""

    def __init__(
        self, run_once: Callable[[], object], *, interval: float, name: str = "signal-scheduler"
    ) -> None:
        if interval <= 0:
            raise ValueError("the signal loop needs a positive interval")
        self._run_once = run_once
        self._interval = interval
        self._stopping = threading.Event()
        self._name = name  # the same loop also writes audit checkpoints (central.audit.schedule)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.runs = 0  # passes attempted, failed ones included
        self.failures = 0

    def start(self) -> None:
        self._thread.start()
        logger.info("%s started: every %s s", self._name, self._interval)

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("signal scheduler still busy after %s s; leaving it to exit", timeout)
        logger.info("%s stopped after %d runs (%d failed)", self._name, self.runs, self.failures)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self.tick()
            self._stopping.wait(self._interval)

    def tick(self) -> None:
        """One pass; any error is logged, never raised (the next tick tries again)."""
        self.runs += 1
        try:
            self._run_once()
        except Exception:
            self.failures += 1
            logger.exception("%s run failed; retrying in %s s", self._name.replace("-", " "), self._interval)


@asynccontextmanager
async def signal_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """FastAPI lifespan: run the scheduler beside the app when the interval is above 0."""
    interval = app.state.settings.signal_interval_seconds
    if interval <= 0:
        yield
        return
    run_once = scheduled_run(
        app.state.session_factory,
        clock=app.state.clock,
        default_profile=app.state.settings.rule_profile,
        instance=instance_name(),
    )
    loop = SignalLoop(run_once, interval=interval)
    app.state.signal_loop = loop
    loop.start()
    try:
        yield
    finally:
        loop.stop()
