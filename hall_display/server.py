"""The display agent's local web server: the pages, and central's public API paths answered from the
agent's copy, so one page works against either (common.public_feed has the shapes).

- `/` → the page of this display's kind; `/marquee`, `/board`, `/kiosk`; `/static/…`
- `/display-config.json`: what the pages need to know of this display
- `GET /api/v1/public/halls/{hall}/progress`: the copy as a FeedSnapshot (works with central down)
- `GET /api/v1/public/halls/{hall}/events`: the feed relayed (Last-Event-ID honoured like central), with
  `status` events (AgentStatus) on connect and whenever central's status changes
- `GET …/catalog`, `GET …/info`: the cached copies
- `POST /api/v1/public/cases/lookup`: forwarded to central with the device key, its answer passed through
- `…/public/complaints/challenge|choices`, `POST …/public/complaints`: a kiosk's complaints, forwarded
  to central with the device key (`hall_display.complaints`)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hall_display.complaints import complaint_routes
from hall_display.config import PAGE_OF_KIND, DisplaySettings
from hall_display.hub import FeedHub, PageMessage
from hall_display.sse import encode_comment, encode_event
from hall_display.state import FeedDataError, parse_event_id

logger = logging.getLogger(__name__)

PAGES_DIR = Path(__file__).resolve().parent / "pages"
PAGE_KEEPALIVE_SECONDS = 15.0
PAGE_RETRY_MS = 2000  # how soon a page's EventSource reconnects to this agent
LOOKUP_PATH = "/api/v1/public/cases/lookup"
LOOKUP_TIMEOUT_SECONDS = 10.0
MAX_LOOKUP_BYTES = 4096
NO_STORE = {"Cache-Control": "no-store"}
UNREACHABLE = "暂时无法连接中心，请稍后再试"


def build_app(
    settings: DisplaySettings,
    hub: FeedHub,
    client: httpx.AsyncClient,
    *,
    pages_dir: Path = PAGES_DIR,
    keepalive_seconds: float = PAGE_KEEPALIVE_SECONDS,
) -> Starlette:
    hall = settings.hall
    api = f"/api/v1/public/halls/{hall}"

    async def home(_: Request) -> Response:
        return RedirectResponse(settings.page_path, status_code=302)

    def page(name: str) -> Route:
        async def serve_page(_: Request) -> Response:
            path = pages_dir / f"{name}.html"
            if not path.is_file():
                return HTMLResponse(_missing_page(name), status_code=404)
            return FileResponse(
                path, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
            )

        return Route(f"/{name}", serve_page, methods=["GET", "HEAD"])

    async def display_config(_: Request) -> Response:
        return JSONResponse(_display_config(settings, hub), headers=NO_STORE)

    async def progress(_: Request) -> Response:
        snapshot = hub.state.to_snapshot()
        if snapshot is None:
            return _detail(503, "尚未从中心取得本大厅的办件进度，请稍后再试")
        return Response(snapshot.model_dump_json(), media_type="application/json", headers=NO_STORE)

    async def events(request: Request) -> Response:
        try:
            last = parse_event_id(request.headers.get("last-event-id") or None)
        except FeedDataError:
            last = None  # a page's garbage id: it gets a snapshot
        return StreamingResponse(
            _page_stream(hub, last, keepalive_seconds),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def catalog(_: Request) -> Response:
        if hub.catalog is None:
            return _detail(503, "尚未从中心取得事项目录，请稍后再试")
        return Response(hub.catalog.model_dump_json(), media_type="application/json", headers=NO_STORE)

    async def info(_: Request) -> Response:
        if hub.info is None:
            return _detail(503, "尚未从中心取得大厅须知，请稍后再试")
        return Response(hub.info.model_dump_json(), media_type="application/json", headers=NO_STORE)

    async def lookup(request: Request) -> Response:
        return await _forward_lookup(request, client)

    routes = [
        Route("/", home, methods=["GET", "HEAD"]),
        *(page(path.lstrip("/")) for path in PAGE_OF_KIND.values()),
        Route("/display-config.json", display_config),
        Route(f"{api}/progress", progress),
        Route(f"{api}/events", events),
        Route(f"{api}/catalog", catalog),
        Route(f"{api}/info", info),
        Route(LOOKUP_PATH, lookup, methods=["POST"]),
        *complaint_routes(settings, client),
        _static(pages_dir / "static"),
    ]
    return Starlette(routes=routes)


def _static(directory: Path) -> Mount | Route:
    if directory.is_dir():
        return Mount("/static", app=StaticFiles(directory=directory), name="static")

    async def none_installed(_: Request) -> Response:
        return _detail(404, "页面资源尚未安装")

    return Route("/static/{path:path}", none_installed)


def _display_config(settings: DisplaySettings, hub: FeedHub) -> dict[str, object]:
    display = settings.display
    known = (
        hub.state.hall or (hub.catalog.hall if hub.catalog else None) or (hub.info.hall if hub.info else None)
    )
    return {
        "hall": settings.hall,
        "hall_name": known.name if known is not None else None,
        "display": display.name,
        "kind": display.kind,
        "led": {
            "width": display.led.width,
            "height": display.led.height,
            "speed_px_per_second": display.led.speed_px_per_second,
            "font_px": display.led.font_px,
        },
        "kiosk": {
            "idle_seconds": display.kiosk.idle_seconds,
            "complaints": display.kind == "kiosk" and display.kiosk.complaints,
            "complaint_status_url": display.kiosk.complaint_status_url
            or f"{settings.central_url}/complaints/status",
        },
    }


async def _page_stream(
    hub: FeedHub, last_event_id: int | None, keepalive_seconds: float
) -> AsyncIterator[bytes]:
    subscription = hub.subscribe(last_event_id)
    try:
        yield f"retry: {PAGE_RETRY_MS}\n\n".encode()
        for message in subscription.initial:
            yield _encode(message)
        while True:
            try:
                item = await asyncio.wait_for(subscription.queue.get(), keepalive_seconds)
            except TimeoutError:
                yield encode_comment("keep-alive")
                continue
            if item is None:
                return
            yield _encode(item)
    finally:
        hub.unsubscribe(subscription)


def _encode(message: PageMessage) -> bytes:
    return encode_event(message.event, message.data, message.id)


async def _forward_lookup(request: Request, client: httpx.AsyncClient) -> Response:
    body = await request.body()
    if len(body) > MAX_LOOKUP_BYTES:
        return _detail(413, "请求过大")
    try:
        answer = await client.post(
            LOOKUP_PATH,
            content=body,
            headers={"Content-Type": request.headers.get("content-type", "application/json")},
            timeout=LOOKUP_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        logger.warning("kiosk lookup: cannot reach central (%s)", type(exc).__name__)
        return _detail(503, UNREACHABLE)
    passed = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "retry-after")}
    return Response(answer.content, status_code=answer.status_code, headers={**passed, **NO_STORE})


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=NO_STORE)


def _missing_page(name: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>页面未安装</title>'
        f"<p>本显示屏的页面（{name}）尚未安装，请联系系统管理员。</p></html>"
    )
