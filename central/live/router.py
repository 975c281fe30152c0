"""Live view API (issue 15 item 3): POST /api/v1/live/offer relays a browser's WebRTC offer to the
hall's edge agent and answers with the agent's answer; DELETE /api/v1/live/viewers/{viewer} ends a
view; GET /api/v1/live/halls/{hall} lists the hall's cameras for the patrol grid; GET
/api/v1/live/ice-servers gives fresh TURN credentials (issue #20) to a console page open for long.
Thin: authorise, call the service, shape the answer. Watching needs `patrols.patrol` or
`signals.supervise`."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response

from central.access.deps import Principal, PrincipalDep
from central.access.roles import Permission
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.live.schemas import HallLiveOut, IceServersOut, OfferIn, OfferOut
from central.live.service import close_view, hall_live, request_view
from central.live.turn_credentials import LiveIce, page_label
from central.live.views import LiveRefused
from common.contract.live import VIEWER_PATTERN

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/live", tags=["live"])

NO_STORE = {"Cache-Control": "no-store"}


def live_viewer(principal: PrincipalDep) -> Principal:
    if not (principal.may(Permission.PATROLS) or principal.may(Permission.SIGNALS_SUPERVISE)):
        raise HTTPException(403, f"your role ({principal.role.value}) may not watch cameras live")
    return principal


Viewer = Annotated[Principal, Depends(live_viewer)]


def _http(exc: LiveRefused) -> HTTPException:
    return HTTPException(exc.status_code, exc.detail)


@router.post(
    "/offer",
    response_model=OfferOut,
    responses={
        403: {"description": "no live view for this role, or the profile asks for a grant (SC-18)"},
        404: {"description": "no such hall in your jurisdiction, or no such camera"},
        409: {"description": "摄像机离线 (camera offline), live view off at the agent, too many viewers"},
        502: {"description": "the edge agent failed to answer"},
        504: {"description": "the hall's edge agent did not answer in time (not connected)"},
    },
)
async def offer(
    body: OfferIn,
    request: Request,
    response: Response,
    principal: Viewer,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> OfferOut:
    try:
        answer = await request_view(
            session,
            replies=request.app.state.replies,
            offer=body,
            principal=principal,
            ice=LiveIce.from_settings(settings),
            now=now,
            timeout=settings.live_answer_timeout_seconds,
            default_profile_key=settings.rule_profile,
        )
    except LiveRefused as exc:
        raise _http(exc) from exc
    response.headers.update(NO_STORE)
    return answer


@router.delete("/viewers/{viewer}", status_code=204, responses={404: {"description": "no such view"}})
def end_view(
    viewer: Annotated[str, Path(pattern=VIEWER_PATTERN)],
    principal: Viewer,
    session: SessionDep,
    now: NowDep,
) -> Response:
    try:
        close_view(session, viewer=viewer, principal=principal, now=now)
    except LiveRefused as exc:
        raise _http(exc) from exc
    return Response(status_code=204)


@router.get("/halls/{hall}", response_model=HallLiveOut)
def read_hall(
    hall: Annotated[str, Path(min_length=1, max_length=40)],
    principal: Viewer,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> HallLiveOut:
    try:
        return hall_live(
            session, hall_code=hall, principal=principal, now=now, default_profile_key=settings.rule_profile
        )
    except LiveRefused as exc:
        raise _http(exc) from exc


@router.get("/ice-servers", response_model=IceServersOut, response_model_exclude_none=True)
def ice_servers(principal: Viewer, response: Response, settings: SettingsDep, now: NowDep) -> IceServersOut:
    """The browser's ICE servers for its next views, with TURN credentials minted for the caller: a
    page open longer than half their lifetime asks here before its next view (/static/live.js)."""
    ice = LiveIce.from_settings(settings)
    response.headers.update(NO_STORE)
    return IceServersOut(
        ice_servers=ice.servers(label=page_label(user_id=principal.user_id), now=now),
        refresh_after_seconds=ice.refresh_after_seconds,
    )
