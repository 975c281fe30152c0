"""Request sessions through a bounded number of slots (central.core.session_slots): many more requests
than worker threads and pooled connections are all served, none wedged; a request finding no slot in
time is answered 503; a long-poll waits without its slot. Both databases: an SQLite file's pool is
sized by the same settings. No timing assertions: only what is answered and stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, select

from central.app import create_app
from central.core.config import Settings
from central.ratings.models import KeypadPress
from tests.central.devices.helpers import COMMANDS, OBSERVATIONS, edge, press
from tests.conftest import FakeClock

__all__ = ["edge"]
TIME = "/api/v1/device/time"


def _app(settings: Settings, clock: FakeClock, **tight: Any) -> FastAPI:
    return create_app(settings.model_copy(update=tight), clock=clock)  # its own engine, sized as told


@asynccontextmanager
async def _served(app: FastAPI, *, threads: int = 40) -> AsyncIterator[httpx.AsyncClient]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        yield c
    app.state.engine.dispose()


def _upload(client: httpx.AsyncClient, key: dict[str, str], clock: FakeClock, n: int) -> Any:
    batch = [press(clock() - timedelta(minutes=n), 5, seq=n)]
    return client.post(OBSERVATIONS, json={"observations": batch}, headers=key)


def test_far_more_requests_than_threads_and_connections_are_all_served(
    db: Engine, settings: Settings, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    """An agent's time request checks its device key and answers in two thread steps on one
    connection (an upload in three). 3 threads, 3 pooled connections, 40 requests at once: without
    the slots the threads all waited for connections held by requests waiting for a thread (503
    after the pool's timeout)."""
    app = _app(
        settings, clock, db_pool_size=2, db_pool_overflow=1, db_pool_timeout_seconds=1, db_request_slots=2
    )

    async def run() -> list[httpx.Response]:
        async with _served(app, threads=3) as client:
            asks = (client.get(TIME, headers=edge[code]) for code in ("EDGE-P", "EDGE-K") * 20)
            return await asyncio.gather(*asks)

    answers = anyio.run(run)
    assert [r.status_code for r in answers if r.status_code != 200] == []
    assert len(answers) == 40


def test_a_request_finding_no_free_slot_in_time_is_answered_503_then_served(
    db: Engine, settings: Settings, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    app = _app(settings, clock, db_request_slots=1, db_request_wait_seconds=0.5)

    async def run() -> tuple[httpx.Response, httpx.Response]:
        async with _served(app) as client:
            async with app.state.session_slots.session(app.state.session_factory):  # another request's
                busy = await _upload(client, edge["EDGE-P"], clock, 1)
            return busy, await _upload(client, edge["EDGE-P"], clock, 2)

    busy, served = anyio.run(run)
    assert busy.status_code == 503, busy.text
    assert busy.headers["Retry-After"] == "1"
    assert "数据库繁忙" in busy.json()["detail"]
    assert served.status_code == 200, served.text
    with db.connect() as conn:
        stored = conn.scalars(select(KeypadPress.keypad_seq)).all()
    assert stored == [2], "the refused upload stored nothing"


def test_a_long_poll_waits_without_its_slot(
    db: Engine, settings: Settings, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    app = _app(settings, clock, db_request_slots=1, db_request_wait_seconds=30)

    async def run() -> tuple[bool, httpx.Response, httpx.Response]:
        async with _served(app) as client:
            poll = asyncio.create_task(client.get(COMMANDS, params={"wait": 30}, headers=edge["EDGE-K"]))
            await asyncio.sleep(0.3)  # let it take the only slot, check its key and start waiting
            upload = await _upload(client, edge["EDGE-P"], clock, 1)
            waiting = not poll.done()
            poll.cancel()
            me = await client.get("/api/v1/device/me", headers=edge["EDGE-K"])
            return waiting, upload, me

    waiting, upload, me = anyio.run(run)
    assert waiting, "the long-poll was still waiting for a command"
    assert upload.status_code == 200, upload.text
    assert me.status_code == 200, me.text


def test_more_slots_than_pooled_connections_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="HALLWATCH_DB_REQUEST_SLOTS"):
        Settings(db_pool_size=5, db_pool_overflow=5, db_request_slots=10)


def test_the_worker_threads_are_as_many_as_the_settings_say(db: Engine, settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"worker_threads": 5}), engine=db)
    with TestClient(app) as client:
        tokens = client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
    assert tokens == 5
