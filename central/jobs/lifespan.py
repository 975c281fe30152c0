"""FastAPI lifespan: the app's `JobRunner` (`app.state.jobs`, built by the app factory) runs beside it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from central.jobs.runner import JobRunner

logger = logging.getLogger(__name__)


@asynccontextmanager
async def jobs_lifespan(app: FastAPI) -> AsyncIterator[None]:
    runner: JobRunner = app.state.jobs
    runner.start()
    try:
        yield
    finally:
        if runner.alive:
            runner.stop()
