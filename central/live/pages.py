"""Console page (zh-CN) of a hall's cameras live (实时视频, issue 15 item 3): a grid of small tiles,
one window focused at full size. The browser's own WebRTC (/static/live.js, written here) offers to
receive through central's API (`POST /api/v1/live/offer`), which authorises and relays it to the
hall's agent; the page never talks to the hall itself. The browser gathers its candidates before its
offer, so the page hands it ICE servers of its own (TURN credentials minted for the user, fetched
again from GET /api/v1/live/ice-servers once half their lifetime has passed)."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from central.access.console_session import PagePrincipal
from central.access.csrf import csrf_token
from central.access.roles import Permission
from central.core.config import Settings
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.live.service import hall_live
from central.live.turn_credentials import LiveIce, page_label
from central.live.views import LiveRefused
from central.web.forms import PageError
from central.web.templating import PageTemplates, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

TEMPLATES = PageTemplates(folder=Path(__file__).parent / "templates")
NO_STORE = {"Cache-Control": "no-store"}


def page_ice(settings: Settings, *, user_id: int, now: datetime) -> dict[str, object]:
    """The live grid's ICE servers (live_grid.html's data-ice) and, when they carry minted TURN
    credentials, when to fetch fresh ones (data-ice-refresh, seconds)."""
    ice = LiveIce.from_settings(settings)
    servers = ice.servers(label=page_label(user_id=user_id), now=now)
    return {
        "ice_json": json.dumps([server.model_dump(exclude_none=True) for server in servers]),
        "ice_refresh": ice.refresh_after_seconds,
    }


@router.get("/console/live/{hall}", response_class=HTMLResponse)
def live_page(
    request: Request,
    hall: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> HTMLResponse:
    """实时视频: every camera of the hall in a grid; a click focuses one."""
    if not (principal.may(Permission.PATROLS) or principal.may(Permission.SIGNALS_SUPERVISE)):
        return error_page(
            request, PageError(403, "无权查看实时视频", "实时视频只向电子监察员开放。"), nav="patrols"
        )
    try:
        live = hall_live(
            session,
            hall_code=hall[:40],
            principal=principal,
            now=now,
            default_profile_key=settings.rule_profile,
        )
    except LiveRefused as refused:
        title = "没有该大厅" if refused.status_code == 404 else "无法查看实时视频"
        return error_page(request, PageError(refused.status_code, title, str(refused.detail)), nav="patrols")
    context = {
        "nav": "patrols",
        "principal": principal,
        "live": live,
        **page_ice(settings, user_id=principal.user_id, now=now),
        "csrf": csrf_token(request),
        "may_patrol": principal.may(Permission.PATROLS),
    }
    return render(request, "live_hall.html", context, headers=NO_STORE)  # it carries TURN credentials
