"""Write audit checkpoints on a schedule inside `hallwatch serve`.

When the checkpoint directory and the signing key are both set, a background loop (the signal
scheduler's `SignalLoop`: a daemon thread, errors logged and retried next tick) signs the head
every `audit_checkpoint_interval_seconds`, and once at start-up. The key is read at start-up, so a
missing or loose key stops `serve` with a clear message instead of failing silently later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from central.audit.checkpoint import write_checkpoint
from central.audit.signing import load_private_key
from central.core.clock import Clock
from central.signals.loop import SignalLoop

logger = logging.getLogger(__name__)


def checkpoint_job(
    factory: sessionmaker[Session], *, key: Ed25519PrivateKey, directory: Path, clock: Clock
) -> Callable[[], object]:
    lock = threading.Lock()  # the loop's tick and a manual one never sign the same head twice

    def run_once() -> object:
        with lock, factory() as session:
            return write_checkpoint(session, key=key, directory=directory, now=clock())

    return run_once


@asynccontextmanager
async def checkpoint_lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    interval = settings.audit_checkpoint_interval_seconds
    if settings.audit_checkpoint_dir is None or settings.audit_signing_key is None or interval <= 0:
        yield
        return
    key = load_private_key(settings.audit_signing_key)
    job = checkpoint_job(
        app.state.session_factory, key=key, directory=settings.audit_checkpoint_dir, clock=app.state.clock
    )
    loop = SignalLoop(job, interval=interval, name="audit-checkpoints")
    app.state.checkpoint_loop = loop
    loop.start()
    try:
        yield
    finally:
        loop.stop()
