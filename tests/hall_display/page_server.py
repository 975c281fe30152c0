"""A small stand-in for the display agent's HTTP side, to test the pages before the real agent exists:
it serves hall_display/pages, /display-config.json and the public feed's paths (common/public_feed.py)
from fixture data, with an event stream the test pushes events into. It is not the agent: no central,
no disk copy; the lead replaces it with the real agent and central in the end-to-end tests.

Under the console's Content-Security-Policy (only 'self', no inline script or style), so the pages
are checked to work under it."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Header, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from central.core.security_headers import SecurityHeadersMiddleware
from common.public_feed import (
    AgentStatus,
    CaseLookup,
    CaseTimeline,
    Catalog,
    FeedEventName,
    FeedSnapshot,
    HallInfo,
)

logger = logging.getLogger(__name__)

PAGES = Path(__file__).resolve().parents[2] / "hall_display" / "pages"
POLL_S = 0.02
LookupMode = Literal["answer", "throttled", "central_down"]


@dataclass
class HallData:
    """What the server answers; tests change it between requests (lookup_mode, timelines)."""

    config: dict[str, Any]
    snapshot: FeedSnapshot
    catalog: Catalog
    info: HallInfo
    timelines: dict[tuple[str, str], CaseTimeline] = field(default_factory=dict)
    lookup_mode: LookupMode = "answer"
    retry_after_s: int = 600
    lookups: list[CaseLookup] = field(default_factory=list)


@dataclass
class _Message:
    event_id: int | None
    name: str
    data: str

    def encode(self) -> str:
        head = f"id: {self.event_id}\n" if self.event_id is not None else ""
        return f"{head}event: {self.name}\ndata: {self.data}\n\n"


class PageServer:
    """The app plus the stream's log: `push` from the test thread, every open stream sends it on."""

    def __init__(self, data: HallData) -> None:
        self.data = data
        self._log: list[_Message] = []
        self._lock = threading.Lock()
        self.closed = False
        self._generation = 0  # drop_streams() ends the streams of earlier generations
        self.app = self._build()

    def push(self, name: FeedEventName, payload: BaseModel, event_id: int) -> None:
        self._append(_Message(event_id, name, payload.model_dump_json()))

    def push_status(self, status: AgentStatus) -> None:
        self._append(_Message(None, "status", status.model_dump_json()))

    def push_raw(self, name: str, data: str, event_id: int | None) -> None:
        """Anything, shaped or not (one line of data): what a page does with garbage."""
        self._append(_Message(event_id, name, data))

    def drop_streams(self) -> None:
        """Ends every open stream (as a network cut would): the browsers reconnect by themselves."""
        with self._lock:
            self._generation += 1

    def _append(self, message: _Message) -> None:
        with self._lock:
            self._log.append(message)

    def _since(self, index: int) -> list[_Message]:
        with self._lock:
            return self._log[index:]

    async def _stream(self, request: Request, last_event_id: int | None) -> AsyncIterator[str]:
        """A snapshot first unless resuming; then every logged change after the resumed or snapshot
        id, and every status from the latest one logged before the connection on."""
        generation = self._generation
        yield "retry: 500\n\n"
        snapshot = self.data.snapshot
        after = snapshot.last_event_id if last_event_id is None else last_event_id
        if last_event_id is None:
            yield _Message(after, "snapshot", snapshot.model_dump_json()).encode()
        backlog = self._since(0)
        statuses = [m for m in backlog if m.event_id is None]
        index = len(backlog)
        for message in [*statuses[-1:], *(m for m in backlog if m.event_id is not None)]:
            if message.event_id is None or message.event_id > after:
                yield message.encode()
        while not self.closed and generation == self._generation and not await request.is_disconnected():
            for message in self._since(index):
                index += 1
                yield message.encode()
            await asyncio.sleep(POLL_S)

    def _build(self) -> FastAPI:
        app = FastAPI()
        app.add_middleware(SecurityHeadersMiddleware)
        data = self.data
        for page in ("marquee", "board", "kiosk"):
            app.add_api_route(f"/{page}", _page_route(page), methods=["GET"])
        app.mount("/static", StaticFiles(directory=PAGES / "static"), name="static")

        @app.get("/display-config.json")
        def config() -> dict[str, Any]:
            return data.config

        prefix = "/api/v1/public/halls/{hall}"

        @app.get(f"{prefix}/progress")
        def progress(hall: str) -> Response:
            return _json(data.snapshot) if hall == data.snapshot.hall.code else _not_found()

        @app.get(f"{prefix}/catalog")
        def catalog(hall: str) -> Response:
            return _json(data.catalog) if hall == data.snapshot.hall.code else _not_found()

        @app.get(f"{prefix}/info")
        def info(hall: str) -> Response:
            return _json(data.info) if hall == data.snapshot.hall.code else _not_found()

        @app.get(f"{prefix}/events")
        def events(
            hall: str, request: Request, last_event_id: str | None = Header(None, alias="Last-Event-ID")
        ) -> Response:
            if hall != data.snapshot.hall.code:
                return _not_found()
            resume = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
            return StreamingResponse(
                self._stream(request, resume),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-store"},
            )

        @app.post("/api/v1/public/cases/lookup")
        def lookup(body: CaseLookup) -> Response:
            data.lookups.append(body)
            if data.lookup_mode == "throttled":
                return JSONResponse(
                    {"detail": "尝试次数过多"}, 429, headers={"Retry-After": str(data.retry_after_s)}
                )
            if data.lookup_mode == "central_down":
                return JSONResponse({"detail": "暂时无法连接中心，请稍后再试"}, 503)
            timeline = data.timelines.get((body.case_no, body.password))
            if timeline is None:
                return JSONResponse({"detail": "办件编号或查询密码不正确"}, 404)
            return _json(timeline)

        return app


def _page_route(page: str) -> Any:
    def route() -> FileResponse:
        return FileResponse(PAGES / f"{page}.html", media_type="text/html; charset=utf-8")

    return route


def _json(model: BaseModel) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


def _not_found() -> Response:
    return Response(json.dumps({"detail": "Not Found"}), 404, media_type="application/json")
