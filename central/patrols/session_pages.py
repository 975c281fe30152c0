"""Console pages (zh-CN) of patrol sessions (issue 15 item 4): start a patrol from a task of today's
plan (a form), and the patrol page: the hall's windows live in a grid (live.js), the findings form,
the findings with their snapshot and clip, their review (finding_review.js: 确认 / 不予认定 through the
API), and ending the patrol (patrol.js)."""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from central.access.console_session import PagePrincipal
from central.access.csrf import csrf_token
from central.access.deps import Principal
from central.core.clock import shanghai_date
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.live.pages import NO_STORE, page_ice
from central.live.service import hall_live
from central.live.views import LiveRefused
from central.patrols.findings_kinds import CATEGORY_LABELS
from central.patrols.review import reviewable_ids
from central.patrols.session_queries import patrol_public
from central.patrols.sessions import PatrolRefused, State, may_patrol, start_patrol, visible_patrol
from central.web.forms import PageError
from central.web.templating import error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

REFUSED_TITLES = {404: "找不到该巡查", 403: "无权进行该巡查", 409: "无法开始巡查", 422: "无法开始巡查"}


@router.post("/console/patrols/start", response_model=None)
async def start_from_form(
    request: Request, principal: PagePrincipal, session: SessionDep, now: NowDep
) -> Response:
    """开始巡查: open (or resume) a patrol of a task of today's plan, or of a hall; then its page."""
    form = await request.form()
    task_text, hall = str(form.get("task") or "").strip(), str(form.get("hall") or "").strip()
    # The database work runs off the event loop: blocked on SQLite's write lock there, it would stop
    # the request that holds the lock (a live offer between its flush and its commit) from finishing.
    try:
        patrol_id = await run_in_threadpool(_start, session, principal, task_text, hall, now)
    except PatrolRefused as refused:
        title = REFUSED_TITLES.get(refused.status_code, "无法开始巡查")
        return error_page(request, PageError(refused.status_code, title, refused.detail), nav="patrols")
    return RedirectResponse(f"/console/patrols/sessions/{patrol_id}", status_code=303)


def _start(session: Session, principal: Principal, task_text: str, hall: str, now: datetime) -> int:
    if may_patrol(principal) is not None:
        raise PatrolRefused(403, "巡查只由电子监察员进行。")
    if task_text and not (task_text.isdigit() and len(task_text) <= 9):
        raise PatrolRefused(404, "该巡查任务不存在。")
    patrol = start_patrol(
        session,
        principal=principal,
        task_id=int(task_text) if task_text else None,
        hall_code=None if task_text else hall[:40] or None,
        today=shanghai_date(now),
        now=now,
    )
    session.commit()
    return patrol.id


@router.get("/console/patrols/sessions/{patrol_id}", response_class=HTMLResponse)
def patrol_page(
    request: Request,
    patrol_id: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> HTMLResponse:
    """视频巡查: the patrol's hall live, its findings, and its end (or its verdict once ended)."""
    try:
        if not patrol_id.isdigit() or len(patrol_id) > 9:
            raise PatrolRefused(404, "该巡查不存在。")
        patrol = visible_patrol(session, patrol_id=int(patrol_id), principal=principal)
        public = patrol_public(session, patrol)
        live = hall_live(
            session,
            hall_code=public.hall_code,
            principal=principal,
            now=now,
            default_profile_key=settings.rule_profile,
        )
    except (PatrolRefused, LiveRefused) as refused:
        title = REFUSED_TITLES.get(refused.status_code, "无法查看该巡查")
        return error_page(request, PageError(refused.status_code, title, str(refused.detail)), nav="patrols")
    mine_open = patrol.state == State.OPEN and patrol.inspector_id == principal.user_id
    windows = [(w.code, w.name, cam.camera) for cam in live.cameras for w in cam.windows]
    context = {
        "nav": "patrols",
        "principal": principal,
        "patrol": public,
        "live": live,
        "open": mine_open,
        "windows": windows,
        "categories": CATEGORY_LABELS,
        "reviewable": reviewable_ids(session, patrol_id=patrol.id, principal=principal),
        **page_ice(settings, user_id=principal.user_id, now=now),
        "csrf": csrf_token(request),
        "offer_url": f"/api/v1/patrols/sessions/{patrol.id}/offer",
        "viewing_url": f"/api/v1/patrols/sessions/{patrol.id}/viewing",
    }
    return render(request, "patrol_session.html", context, headers=NO_STORE)  # it carries TURN credentials
