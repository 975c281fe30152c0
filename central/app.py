"""The central server's app factory: tests and the CLI inject settings, engine and clock."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from central.access.admin_pages import router as admin_pages
from central.access.auth_first import AuthenticateFirstMiddleware
from central.access.csrf import CsrfRefused, csrf_guard, refuse_csrf
from central.access.deps import get_principal
from central.access.refusal_audit import REFUSAL_ACTIONS, RefusalAuditMiddleware, is_refusal
from central.access.refusals import RefusalLog, audit_refusal
from central.access.router import router as access_router
from central.approvals.pages import router as approvals_pages
from central.approvals.router import router as approvals_router
from central.audit.schedule import checkpoint_lifespan
from central.calendar.router import router as calendar_router
from central.cases.router import router as cases_router
from central.core.body_limit import BodyLimitMiddleware
from central.core.clock import Clock, system_clock
from central.core.config import Settings
from central.core.db import make_engine, make_session_factory
from central.core.security_headers import SecurityHeadersMiddleware
from central.devices.channel import add_channel_route
from central.devices.keys_router import router as device_router
from central.devices.notifier import Notifier
from central.devices.replies import Replies
from central.devices.router import router as device_link_router
from central.investigations.pages import router as investigations_pages
from central.investigations.router import router as investigations_router
from central.ledger.pages import router as ledger_pages
from central.ledger.router import router as ledger_router
from central.profiles.router import router as profiles_router
from central.ratings.pages import router as ratings_pages
from central.ratings.router import router as ratings_router
from central.registry.router import router as registry_router
from central.signals.loop import signal_lifespan
from central.signals.pages import router as signals_pages
from central.signals.router import router as signals_router
from central.video import handlers as video_handlers  # noqa: F401  (registers the camera observation handlers)
from central.video.pages import router as video_pages
from central.video.router import router as video_router
from central.web.login import router as login_router
from central.web.pages import router as pages_router
from central.web.session import SignInRequired, redirect_to_sign_in

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "web" / "static"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 naming every field that was wrong (the default shape, without echoing huge inputs)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()[:50]
    ]
    return JSONResponse(status_code=422, content={"detail": problems})


async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 for a value the database refuses to store or compare (PostgreSQL refuses NUL characters in
    text, numbers past a column's range): bad input, never a 500. The session is rolled back by its
    dependency; the database's own first line says what was wrong."""
    assert isinstance(exc, DataError)
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
    logger.info("request refused by the database as bad data: %s", reason)
    return JSONResponse(
        status_code=422, content={"detail": f"a value in the request cannot be used: {reason}"}
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's own answer; refusals (401, 403, a signed-in caller's 404) are audited first with
    the exception's detail (see refusals.py; refusal_audit.py catches those answered otherwise)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in REFUSAL_ACTIONS and is_refusal(request.scope, exc.status_code):
        action = REFUSAL_ACTIONS[exc.status_code]
        await run_in_threadpool(audit_refusal, request, action=action, detail=exc.detail)
    return await http_exception_handler(request, exc)


@asynccontextmanager
async def periodic_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The notifier's LISTEN connection, and the periodic work of `serve`: signals (SZ-10..12) and
    signed audit checkpoints."""
    app.state.notifier.start()
    try:
        async with signal_lifespan(app), checkpoint_lifespan(app):
            yield
    finally:
        await run_in_threadpool(app.state.notifier.stop)


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock = system_clock
) -> FastAPI:
    settings = settings or Settings()
    engine = engine or make_engine(settings.database_url, echo=settings.sql_echo)
    app = FastAPI(
        title="hallwatch central",
        version="0.1.0",
        description="行政审批电子监察 — central server",
        lifespan=periodic_lifespan,  # the signal scheduler and audit checkpoints, when configured
        dependencies=[Depends(csrf_guard)],  # every route: a cookie-only state change needs the form token
        openapi_url="/openapi.json" if settings.api_docs else None,  # /docs and /redoc go with it
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.clock = clock
    # Wakes command waiters (long-polls, channels) when a command is committed on any instance.
    app.state.notifier = Notifier(engine)
    app.state.replies = Replies(app.state.notifier)
    app.state.refusal_log = RefusalLog(window=timedelta(seconds=settings.refusal_window_seconds))
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(CsrfRefused, refuse_csrf)
    # The last added runs first: headers on every answer, the real client and scheme from a trusted
    # proxy, every refusal recorded (the 401s answered before the body is read too), the credential
    # checked before the body is read, and only then its size.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AuthenticateFirstMiddleware)
    app.add_middleware(RefusalAuditMiddleware)  # records 401/403/404 answers; a 413 is no refusal
    if settings.forwarded_allow_ips:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.add_middleware(SecurityHeadersMiddleware)
    app.include_router(access_router, prefix="/api/v1")
    app.include_router(device_router, prefix="/api/v1")  # user or device auth per endpoint
    app.include_router(device_link_router, prefix="/api/v1")  # device auth (X-Device-Key)
    add_channel_route(app)  # the agents' WebSocket, device auth on the upgrade
    # Everything else needs a signed-in user; endpoints narrow it further by permission and jurisdiction.
    api_routers = (
        cases_router,
        calendar_router,
        registry_router,
        profiles_router,
        signals_router,
        investigations_router,
        approvals_router,
        ledger_router,
        ratings_router,
        video_router,
    )
    for router in api_routers:
        app.include_router(router, prefix="/api/v1", dependencies=[Depends(get_principal)])
    app.include_router(pages_router)
    for pages in (
        signals_pages,
        investigations_pages,
        ledger_pages,
        approvals_pages,
        admin_pages,
        ratings_pages,
        video_pages,
    ):
        app.include_router(pages)
    app.include_router(login_router)
    app.add_exception_handler(SignInRequired, redirect_to_sign_in)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/cases")

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
