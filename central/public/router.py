"""The public API of a hall's screens (no sign-in): the progress snapshot and its change stream, the
kiosk's lookup, the catalog and the hall's rules. Anyone may read; each client is limited
(`limits.py`), except a display agent that shows its device key."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.devices.key_cache import DeviceKeyCache
from central.devices.keys import DevicePrincipal, authenticate_device
from central.public.guide import hall_catalog, hall_info
from central.public.hub import FeedHub
from central.public.limits import ClientLimits
from central.public.lookup import LookupRefused, lookup_case
from central.public.snapshot import hall_by_code
from central.public.stream import FeedStream
from central.registry.models import Hall
from common.public_feed import CaseLookup, CaseTimeline, Catalog, FeedSnapshot, HallInfo

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/public", tags=["public"])
NOT_FOUND = "办件编号或查询密码不正确"  # unknown case and wrong password alike


@dataclass(frozen=True)
class PublicClient:
    name: str  # the address, or device:<code> for a display agent
    limited: bool
    device: DevicePrincipal | None = None  # the display agent's device (its hall), when it shows its key
    address: str = "?"  # where the request came from, for the audit trail


def _identify(
    session: Session, *, address: str, key: str | None, now: datetime, keys: DeviceKeyCache | None
) -> PublicClient:
    """Who asks, for the limits: a display agent by its key (not limited), anyone else by address."""
    if key:
        device = authenticate_device(session, presented=key, now=now, cache=keys)
        if device is None:
            raise HTTPException(401, "the device key is not valid (unknown, malformed or revoked)")
        return PublicClient(
            name=f"device:{device.device_code}", limited=False, device=device, address=address
        )
    return PublicClient(name=address, limited=True, address=address)


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"


def _take(request: Request, client: PublicClient) -> None:
    limits: ClientLimits = request.app.state.public_limits
    wait = limits.take(client.name) if client.limited else None
    if wait is not None:
        raise HTTPException(
            429,
            f"too many requests from {client.name}: retry after {wait} s",
            headers={"Retry-After": str(wait)},
        )


def limited(
    request: Request,
    session: SessionDep,
    now: NowDep,
    x_device_key: Annotated[str | None, Header(description="A display agent's device key")] = None,
) -> PublicClient:
    keys = request.app.state.device_keys
    client = _identify(session, address=_address(request), key=x_device_key, now=now, keys=keys)
    _take(request, client)
    return client


LimitedClient = Annotated[PublicClient, Depends(limited)]


async def _admit(request: Request, hall: str, key: str | None) -> tuple[int, PublicClient]:
    """The hall's id and the client, looked up in a session of their own: a stream must not hold a
    database connection for its life (SessionDep would, until the response ends)."""
    hub: FeedHub = request.app.state.public_hub
    now = request.app.state.clock()
    keys = request.app.state.device_keys

    def look(session: Session) -> tuple[int | None, PublicClient]:
        client = _identify(session, address=_address(request), key=key, now=now, keys=keys)
        found = hall_by_code(session, hall)
        return (found.id if found else None), client

    hall_id, client = await hub.run(look)
    _take(request, client)
    if hall_id is None:
        raise HTTPException(404, f"no hall with code {hall!r}")
    return hall_id, client


def _hall(session: Session, code: str) -> Hall:
    hall = hall_by_code(session, code)
    if hall is None:
        raise HTTPException(404, f"no hall with code {code!r}")
    return hall


DeviceKeyHeader = Annotated[str | None, Header(description="A display agent's device key (no limits)")]


@router.get("/halls/{hall}/progress", response_model=FeedSnapshot)
async def progress(request: Request, hall: str, x_device_key: DeviceKeyHeader = None) -> Response:
    """Every case on the hall's screens now, today's figures and notices, and the number of the last
    change included (resume the stream after it)."""
    hall_id, _client = await _admit(request, hall, x_device_key)
    hub: FeedHub = request.app.state.public_hub
    feed = await hub.join(hall_id)
    try:
        parts = await feed.snapshot()
    finally:
        hub.leave(feed)
    return Response(parts.json("start"), media_type="application/json")


@router.get(
    "/halls/{hall}/events", response_class=Response, responses={200: {"content": {"text/event-stream": {}}}}
)
async def events(
    request: Request,
    hall: str,
    x_device_key: DeviceKeyHeader = None,
    last_event_id: Annotated[str | None, Header(description="Resume after this change")] = None,
) -> Response:
    """The hall's changes as Server-Sent Events (see common/public_feed.py for the messages)."""
    hall_id, client = await _admit(request, hall, x_device_key)
    limits: ClientLimits = request.app.state.public_limits
    resume = _parse_event_id(last_event_id or request.query_params.get("last_event_id"))
    if client.limited and not limits.open_stream(client.name):
        raise HTTPException(429, f"too many open streams from {client.name}", headers={"Retry-After": "30"})
    close = BackgroundTask(limits.close_stream, client.name) if client.limited else None
    return FeedStream(
        hub=request.app.state.public_hub, hall_id=hall_id, last_event_id=resume, background=close
    )


def _parse_event_id(raw: str | None) -> int | None:
    """A resume point, or None (start from a snapshot) for anything that is not one."""
    if raw is None or not raw.strip().isdigit() or len(raw.strip()) > 18:
        return None
    return int(raw.strip())


@router.get("/halls/{hall}/catalog", response_model=Catalog)
def catalog(hall: str, session: SessionDep, _client: LimitedClient) -> Catalog:
    """办事指南: the items handled at the hall, with conditions, materials, fees, limits and basis."""
    return hall_catalog(session, hall=_hall(session, hall))


@router.get("/halls/{hall}/info", response_model=HallInfo)
def info(hall: str, session: SessionDep, settings: SettingsDep, _client: LimitedClient) -> HallInfo:
    """The hall's rules and how to complain."""
    return hall_info(session, hall=_hall(session, hall), default_key=settings.rule_profile)


@router.post(
    "/cases/lookup",
    response_model=CaseTimeline,
    responses={404: {"description": NOT_FOUND}, 429: {"description": "too many tries"}},
)
def lookup(
    body: CaseLookup,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    client: LimitedClient,
    x_kiosk_client: Annotated[str | None, Header(max_length=64)] = None,
) -> CaseTimeline | JSONResponse:
    """A case's timeline by its number and query password (the receipt's). A wrong password and an
    unknown number get the same 404; repeated failures are refused for a while (429)."""
    source = client.name if client.limited else f"{client.name}/{x_kiosk_client or '-'}"
    try:
        timeline = lookup_case(
            session, query=body, source=source, now=now, calendar=calendar, default_key=settings.rule_profile
        )
    except LookupRefused as exc:
        return JSONResponse(
            {"detail": f"尝试次数过多，请 {max(1, (exc.retry_after + 59) // 60)} 分钟后再试"},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if timeline is None:
        return JSONResponse({"detail": NOT_FOUND}, status_code=404)
    return timeline
