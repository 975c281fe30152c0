"""Warm the app before it takes traffic.

FastAPI builds an included router's route table on the first request that walks it, and
SQLAlchemy configures its mappers on the first query: together most of a second on a small
machine. Without this, that cost lands on whoever comes first after a restart, typically an edge
agent draining its outbox after central was down.

Then the garbage collector is told that everything alive now (modules, the app, mappers, schemas:
hundreds of thousands of objects) lives for good (`gc.freeze`): otherwise every full collection
walks them all again, pauses of tens of milliseconds in the middle of requests that allocate a lot,
such as a drained outbox's batches of a thousand observations.

And its first threshold is raised: a central holding thousands of hall screens' streams allocates a
future and a callback per stream for every change, so with the default (700 allocations) one change
to 8,000 screens set off a dozen collections, some of them full walks of every connection's objects
(bench/displays.py: p99 delivery 830 ms → 306 ms). Garbage in cycles is still collected, later.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

import httpx
from fastapi import FastAPI
from sqlalchemy.orm import configure_mappers

logger = logging.getLogger(__name__)

GC_THRESHOLDS = (50_000, 20, 10)  # Python's defaults: (700, 10, 10)

WARM_UP_PATH = "/__warm-up__"  # matches no route, so every router's table is walked


async def warm_routes(app: FastAPI) -> None:
    """One in-process request for a path no route matches (answered 404; no socket, no database)."""
    started = time.perf_counter()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://warm-up") as client:
        response = await client.get(WARM_UP_PATH)
    logger.info("routes warmed in %.0f ms (%d)", (time.perf_counter() - started) * 1000, response.status_code)


def warm_up(app: FastAPI) -> None:
    """Configure the ORM mappers and warm the routes, before the server's event loop starts."""
    configure_mappers()
    asyncio.run(warm_routes(app))
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    logger.info("%d objects frozen out of garbage collection", gc.get_freeze_count())
