"""Device keys: administrators issue, rotate and revoke; devices authenticate with `X-Device-Key`."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from central.access.auth_first import CredentialRule
from central.access.credentials import Credential
from central.access.deps import UserManager
from central.access.refusals import PRINCIPAL_STATE, audit_refusal
from central.core.actor import Actor
from central.core.deps import NowDep, SessionDep
from central.core.types import AwareMoment
from central.devices.clocks import record_clock
from central.devices.keys import (
    DevicePrincipal,
    authenticate_device,
    device_in_jurisdiction,
    issue_key,
    revoke_keys,
    rotate_key,
)
from central.devices.outboxes import record_outbox
from central.registry.models import Device
from central.registry.queries import list_windows
from central.registry.schemas import WindowPublic
from common.device_channel import OUTBOX_HEADER, OUTBOX_HEADER_MAX, OutboxReport

logger = logging.getLogger(__name__)
router = APIRouter(tags=["devices"])


class IssuedKeyOut(BaseModel):
    device: str
    key_id: str
    key: str  # shown once


class DeviceMe(BaseModel):
    device: str
    kind: str
    hall: str
    key_id: str


class DeviceTime(BaseModel):
    now: datetime = Field(description="Central's clock (UTC) as it answered; edge agents keep to it.")


def _device_in_jurisdiction(session: SessionDep, principal: UserManager, code: str) -> Device:
    device = device_in_jurisdiction(session, code=code, within=principal.jurisdiction)
    if device is None:
        raise HTTPException(404, f"no device {code} in your jurisdiction")
    return device


@router.post("/devices/{code}/keys", response_model=IssuedKeyOut, status_code=201)
def add_key(code: str, principal: UserManager, session: SessionDep, now: NowDep) -> IssuedKeyOut:
    device = _device_in_jurisdiction(session, principal, code)
    issued = issue_key(session, device=device, now=now, issued_by=principal.user_id, actor=principal.actor)
    session.commit()
    return IssuedKeyOut(device=code, key_id=issued.key_id, key=issued.key)


@router.post("/devices/{code}/keys/rotate", response_model=IssuedKeyOut, status_code=201)
def rotate(code: str, principal: UserManager, session: SessionDep, now: NowDep) -> IssuedKeyOut:
    device = _device_in_jurisdiction(session, principal, code)
    issued = rotate_key(session, device=device, now=now, issued_by=principal.user_id, actor=principal.actor)
    session.commit()
    return IssuedKeyOut(device=code, key_id=issued.key_id, key=issued.key)


@router.delete("/devices/{code}/keys/{key_id}", status_code=204)
def revoke(code: str, key_id: str, principal: UserManager, session: SessionDep, now: NowDep) -> None:
    device = _device_in_jurisdiction(session, principal, code)
    if revoke_keys(session, device=device, now=now, actor=principal.actor, key_id=key_id) == 0:
        raise HTTPException(404, f"device {code} has no active key {key_id}")
    session.commit()


def get_device(
    request: Request,
    session: SessionDep,
    now: NowDep,
    x_device_key: Annotated[str | None, Header(max_length=200)] = None,
) -> DevicePrincipal:
    device = authenticate_device(
        session, presented=x_device_key or "", now=now, cache=request.app.state.device_keys
    )
    if device is None:
        raise HTTPException(401, "a valid, unrevoked device key is needed in X-Device-Key")
    setattr(request.state, PRINCIPAL_STATE, device.actor)
    return device


DeviceDep = Annotated[DevicePrincipal, Depends(get_device)]


def _device_actor(request: Request, session: Session) -> Actor | None:
    presented = request.headers.get("x-device-key", "")
    device = authenticate_device(
        session, presented=presented, now=request.app.state.clock(), cache=request.app.state.device_keys
    )
    return device.actor if device else None


# For the middleware that checks credentials before a body is read (central/access/auth_first.py).
DEVICE_CREDENTIAL = CredentialRule(get_device, Credential.DEVICE, _device_actor)


@router.get("/device/me", response_model=DeviceMe)
def device_me(device: DeviceDep) -> DeviceMe:
    return DeviceMe(device=device.device_code, kind=device.kind, hall=device.hall_code, key_id=device.key_id)


def outbox_header(
    x_device_outbox: Annotated[
        str | None,
        Header(
            max_length=OUTBOX_HEADER_MAX,
            description="The agent's outbox disk state, an OutboxReport as JSON (common.device_channel).",
        ),
    ] = None,
) -> OutboxReport | None:
    """The X-Device-Outbox header's report; 422 naming what is wrong with it."""
    if x_device_outbox is None:
        return None
    try:
        return OutboxReport.model_validate_json(x_device_outbox)
    except ValidationError as exc:
        wrong = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(report)'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise HTTPException(422, f"{OUTBOX_HEADER} is not an outbox report: {wrong}") from exc


@router.get("/device/time", response_model=DeviceTime)
def device_time(
    device: DeviceDep,
    session: SessionDep,
    now: NowDep,
    outbox: Annotated[OutboxReport | None, Depends(outbox_header)],
    x_device_clock: Annotated[
        AwareMoment | None,
        Header(description="The agent's own clock as it sent this request (ISO 8601 with its zone)."),
    ] = None,
) -> DeviceTime:
    """Central's time: edge agents stamp presses and video events with it (a press binds to a case
    by press time, against prompts opened on this clock). With X-Device-Clock, central also keeps how
    far the box's own clock is off (`central.devices.clocks`), with X-Device-Outbox the state of its
    outbox's disk (`central.devices.outboxes`); both read by `hallwatch doctor`. Both headers are
    checked before either is kept."""
    if x_device_clock is not None:
        record_clock(session, device_id=device.device_id, device_clock=x_device_clock, now=now)
    if outbox is not None:
        record_outbox(session, device_id=device.device_id, report=outbox, now=now)
    if x_device_clock is not None or outbox is not None:
        session.commit()
    return DeviceTime(now=now)


@router.get("/device/halls/{hall_code}/windows", response_model=list[WindowPublic])
def device_hall_windows(
    request: Request, hall_code: str, device: DeviceDep, session: SessionDep
) -> list[WindowPublic]:
    """The windows of the device's own hall (edge agents sync them); another hall is not found."""
    if hall_code != device.hall_code:
        detail = f"no hall {hall_code}"
        audit_refusal(request, action="refused.other_hall", detail=detail)
        raise HTTPException(404, detail)
    return list_windows(session, hall_code=hall_code)
