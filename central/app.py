"""The central server's app factory: tests and the CLI inject settings, engine and clock.

It is also where the domains are wired together, explicitly: the periodic jobs each domain exposes
(`periodic_jobs`), the observation handlers (keypads from ratings, cameras from video), what runs
after case events are stored (ratings' prompts) and the calendar loader that core's dependency uses.
Lower packages never import the domains that plug into them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from central.access.admin_pages import router as admin_pages
from central.access.auth_first import USER_CREDENTIALS, AuthenticateFirstMiddleware
from central.access.console_session import SignInRequired, redirect_to_sign_in
from central.access.csrf import CsrfRefused, csrf_guard, refuse_csrf
from central.access.deps import get_principal
from central.access.login_pages import TEMPLATES as access_templates
from central.access.login_pages import router as login_router
from central.access.refusal_audit import REFUSAL_ACTIONS, RefusalAuditMiddleware, is_refusal
from central.access.refusals import RefusalLog, audit_refusal
from central.access.registry_router import router as registry_router
from central.access.router import router as access_router
from central.anomalies.jobs import anomalies_job
from central.anomalies.pages import TEMPLATES as anomalies_templates
from central.anomalies.pages import router as anomalies_pages
from central.anomalies.router import router as anomalies_router
from central.approvals.pages import TEMPLATES as approvals_templates
from central.approvals.pages import router as approvals_pages
from central.approvals.router import router as approvals_router
from central.audit.jobs import checkpoint_job
from central.calendar.router import router as calendar_router
from central.calendar.service import load_calendar
from central.cases.pages import TEMPLATES as cases_templates
from central.cases.pages import router as cases_pages
from central.cases.router import router as cases_router
from central.complaints.jobs import COMPLAINT_SIGNAL_SOURCES
from central.complaints.pages import TEMPLATES as complaints_templates
from central.complaints.pages import router as complaints_pages
from central.complaints.public_pages import router as complaint_public_pages
from central.complaints.public_router import router as complaint_public_router
from central.complaints.router import router as complaints_router
from central.core.body_limit import BodyLimitMiddleware
from central.core.clock import Clock, system_clock
from central.core.config import Settings
from central.core.db import make_session_factory, settings_engine
from central.core.db_errors import add_database_error_handlers
from central.core.security_headers import SecurityHeadersMiddleware
from central.core.session_slots import SessionSlots
from central.devices.admin_pages import TEMPLATES as devices_templates
from central.devices.admin_pages import router as device_admin_pages
from central.devices.channel import add_channel_route
from central.devices.jobs import command_purge_job
from central.devices.key_cache import DeviceKeyCache
from central.devices.keys_router import DEVICE_CREDENTIAL
from central.devices.keys_router import router as device_router
from central.devices.notifier import Notifier
from central.devices.replies import Replies
from central.devices.router import router as device_link_router
from central.devices.service import observation_handlers
from central.dualtrack.judge import DUALTRACK_SIGNAL_SOURCES
from central.dualtrack.pages import TEMPLATES as dualtrack_templates
from central.dualtrack.pages import router as dualtrack_pages
from central.dualtrack.router import router as dualtrack_router
from central.investigations.pages import TEMPLATES as investigations_templates
from central.investigations.pages import router as investigations_pages
from central.investigations.router import router as investigations_router
from central.investigations.signal_form import investigate_from_form
from central.jobs.lifespan import jobs_lifespan
from central.jobs.runner import Job, JobRunner
from central.ledger.pages import TEMPLATES as ledger_templates
from central.ledger.pages import router as ledger_pages
from central.ledger.router import router as ledger_router
from central.live.pages import TEMPLATES as live_templates
from central.live.pages import router as live_pages
from central.live.router import router as live_router
from central.patrols.compliance_router import router as patrol_compliance_router
from central.patrols.finding_router import router as patrol_findings_router
from central.patrols.jobs import patrol_plan_job
from central.patrols.pages import TEMPLATES as patrols_templates
from central.patrols.pages import router as patrols_pages
from central.patrols.router import router as patrols_router
from central.patrols.session_pages import router as patrol_session_pages
from central.patrols.session_router import router as patrol_sessions_router
from central.patrols.viewing import PATROL_HANDLERS
from central.profiles.router import router as profiles_router
from central.public.hub import FeedHub
from central.public.jobs import public_feed_job
from central.public.limits import ClientLimits
from central.public.notice_router import router as notice_router
from central.public.publish import publish_stored_cases
from central.public.router import router as public_router
from central.ratings.keypad_observations import KEYPAD_HANDLERS
from central.ratings.overdue import RATINGS_SIGNAL_SOURCES
from central.ratings.pages import TEMPLATES as ratings_templates
from central.ratings.pages import router as ratings_pages
from central.ratings.prompts import open_prompts_for_events
from central.ratings.router import router as ratings_router
from central.reports.pages import router as reports_pages
from central.reports.render import TEMPLATES as reports_templates
from central.reports.router import router as reports_router
from central.reports.service import closed_month_hook
from central.sampling.pages import TEMPLATES as sampling_templates
from central.sampling.pages import router as sampling_pages
from central.sampling.router import router as sampling_router
from central.scores.jobs import scores_job
from central.scores.pages import TEMPLATES as scores_templates
from central.scores.pages import router as scores_pages
from central.scores.router import router as scores_router
from central.signals.jobs import signals_job
from central.signals.lifecycle import SignalAction
from central.signals.pages import TEMPLATES as signals_templates
from central.signals.pages import router as signals_pages
from central.signals.router import router as signals_router
from central.signals.scheduler import SignalSource
from central.video.handlers import CAMERA_HANDLERS
from central.video.jobs import evidence_purge_job
from central.video.pages import TEMPLATES as video_templates
from central.video.pages import router as video_pages
from central.video.router import router as video_router
from central.web.templating import SHELL, install_templates

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "web" / "static"
# Which credential each kind of route takes, checked before a body is read (auth_first.py).
CREDENTIALS = (*USER_CREDENTIALS, DEVICE_CREDENTIAL)
# What each domain's pages bring to the one Jinja environment built per app.
PAGE_TEMPLATES = (
    SHELL,
    access_templates,
    cases_templates,
    signals_templates,
    investigations_templates,
    ledger_templates,
    approvals_templates,
    devices_templates,
    ratings_templates,
    video_templates,
    patrols_templates,
    live_templates,
    reports_templates,
    scores_templates,
    complaints_templates,
    sampling_templates,
    anomalies_templates,
    dualtrack_templates,
)
# The domains' computed signals, run inside every signal pass (serve's, the CLI's, the demo's): overdue
# follow-ups of 差评 (HCP), complaints undecided past their working days (SZ-14) and the daily
# dual-track judgement (RULES: 双轨运行).
SIGNAL_SOURCES: dict[str, SignalSource] = {
    **RATINGS_SIGNAL_SOURCES,
    **COMPLAINT_SIGNAL_SOURCES,
    **DUALTRACK_SIGNAL_SOURCES,
}


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 naming every field that was wrong (the default shape, without echoing huge inputs)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()[:50]
    ]
    return JSONResponse(status_code=422, content={"detail": problems})


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's own answer; refusals (401, 403, a signed-in caller's 404) are audited first with
    the exception's detail (see refusals.py; refusal_audit.py catches those answered otherwise)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in REFUSAL_ACTIONS and is_refusal(request.scope, exc.status_code):
        action = REFUSAL_ACTIONS[exc.status_code]
        await run_in_threadpool(audit_refusal, request, action=action, detail=exc.detail)
    return await http_exception_handler(request, exc)


def periodic_jobs(settings: Settings) -> list[Job]:
    """The periodic work of `serve`, each domain's jobs: signals (SZ-10..12, with ratings' overdue
    follow-ups and complaints' overdue decisions in the same pass), evidence retention on the same
    beat (SC-18), the day's patrol plan (SC-6(1)), signed audit checkpoints. An interval of 0 leaves a job out (tests set HALLWATCH_SIGNAL_INTERVAL_SECONDS=0)."""
    jobs: list[Job] = []
    if settings.signal_interval_seconds > 0:
        jobs.append(signals_job(interval=settings.signal_interval_seconds, sources=SIGNAL_SOURCES))
        jobs.append(evidence_purge_job(interval=settings.signal_interval_seconds))
        jobs.append(command_purge_job(interval=settings.signal_interval_seconds))
    if settings.public_feed_interval_seconds > 0:
        jobs.append(public_feed_job(interval=settings.public_feed_interval_seconds))
    if settings.score_interval_seconds > 0:
        jobs.append(
            scores_job(
                interval=settings.score_interval_seconds,
                on_month_closed=closed_month_hook(default_profile=settings.rule_profile),
            )
        )
    if settings.anomaly_interval_seconds > 0:
        jobs.append(anomalies_job(interval=settings.anomaly_interval_seconds))
    if settings.patrol_key_file is not None and settings.patrol_plan_interval_seconds > 0:
        jobs.append(patrol_plan_job(interval=settings.patrol_plan_interval_seconds))
    checkpoints = checkpoint_job(settings)  # reads the signing key now: a bad one stops start-up
    if checkpoints is not None:
        jobs.append(checkpoints)
    return jobs


@asynccontextmanager
async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The notifier's LISTEN connection (commands and key revocations from every instance), and the
    periodic jobs of `serve`; the worker threads' number."""
    to_thread.current_default_thread_limiter().total_tokens = app.state.settings.worker_threads
    app.state.notifier.start()
    try:
        async with jobs_lifespan(app):
            yield
    finally:
        await app.state.public_hub.close()
        await run_in_threadpool(app.state.notifier.stop)


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock = system_clock
) -> FastAPI:
    settings = settings or Settings()
    engine = engine or settings_engine(settings)
    app = FastAPI(
        title="hallwatch central",
        version="0.1.0",
        description="行政审批电子监察 — central server",
        lifespan=app_lifespan,  # the notifier, and app.state.jobs (periodic_jobs) beside the app
        dependencies=[Depends(csrf_guard)],  # every route: a cookie-only state change needs the form token
        openapi_url="/openapi.json" if settings.api_docs else None,  # /docs and /redoc go with it
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.session_slots = SessionSlots(
        slots=settings.db_request_slots, wait_seconds=settings.db_request_wait_seconds
    )
    app.state.clock = clock
    # Wakes command waiters (long-polls, channels) when a command is committed on any instance.
    app.state.notifier = Notifier(engine)
    app.state.replies = Replies(app.state.notifier)
    app.state.device_keys = DeviceKeyCache(app.state.notifier)  # revocations heard through the notifier
    app.state.refusal_log = RefusalLog(window=timedelta(seconds=settings.refusal_window_seconds))
    jobs = periodic_jobs(settings)  # built either way: a bad signing key stops start-up
    app.state.jobs = JobRunner(
        jobs if settings.serve_runs_jobs else [],
        factory=app.state.session_factory,
        clock=clock,
        settings=settings,
    )
    app.state.observation_handlers = observation_handlers(KEYPAD_HANDLERS, CAMERA_HANDLERS, PATROL_HANDLERS)
    # 一事一评: cases served are rated; the hall screens show the change at once.
    app.state.case_event_listeners = (open_prompts_for_events, publish_stored_cases)
    app.state.public_hub = FeedHub(
        factory=app.state.session_factory, notifier=app.state.notifier, clock=clock
    )
    app.state.public_limits = ClientLimits(
        per_minute=settings.public_requests_per_minute, streams=settings.public_streams_per_client
    )
    app.state.load_calendar = load_calendar  # for central.core.deps.CalendarDep
    app.state.signal_form_actions = {SignalAction.INVESTIGATE.value: investigate_from_form}
    app.add_exception_handler(RequestValidationError, _validation_error)
    add_database_error_handlers(app)  # 422 for a value refused, 503 for a database busy or away
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(CsrfRefused, refuse_csrf)
    # The last added runs first: headers on every answer, the real client and scheme from a trusted
    # proxy, every refusal recorded (the 401s answered before the body is read too), the credential
    # checked before the body is read, and only then its size.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AuthenticateFirstMiddleware, rules=CREDENTIALS)
    app.add_middleware(RefusalAuditMiddleware)  # records 401/403/404 answers; a 413 is no refusal
    if settings.forwarded_allow_ips:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.add_middleware(SecurityHeadersMiddleware)
    app.include_router(access_router, prefix="/api/v1")
    app.include_router(device_router, prefix="/api/v1")  # user or device auth per endpoint
    app.include_router(device_link_router, prefix="/api/v1")  # device auth (X-Device-Key)
    app.include_router(public_router, prefix="/api/v1")  # no sign-in: the hall screens and kiosks
    app.include_router(complaint_public_router, prefix="/api/v1")  # no sign-in: citizens complain
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
        patrols_router,
        patrol_sessions_router,
        patrol_compliance_router,
        patrol_findings_router,
        video_router,
        live_router,
        notice_router,
        reports_router,
        scores_router,
        complaints_router,
        sampling_router,
        anomalies_router,
        dualtrack_router,
    )
    for router in api_routers:
        app.include_router(router, prefix="/api/v1", dependencies=[Depends(get_principal)])
    install_templates(app, PAGE_TEMPLATES)
    app.include_router(cases_pages)
    for pages in (
        signals_pages,
        investigations_pages,
        ledger_pages,
        approvals_pages,
        admin_pages,
        device_admin_pages,
        ratings_pages,
        video_pages,
        patrols_pages,
        patrol_session_pages,
        live_pages,
        reports_pages,
        scores_pages,
        complaints_pages,
        complaint_public_pages,  # no sign-in
        sampling_pages,
        anomalies_pages,
        dualtrack_pages,
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
