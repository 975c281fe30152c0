"""Console pages (zh-CN) for device keys: the devices of one's halls, and 签发 / 轮换 / 吊销.

Same permission as the device-key API (central/devices/keys_router.py): `users.manage`; a device
outside one's jurisdiction is not found, exactly like a missing one. A new key is shown once, on the
page that answers the POST (never in a URL, never logged, marked no-store so no cache keeps it);
only its SHA-256 is stored. Forms carry the per-session token (central/access/admin_forms.py).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from central.access.admin_forms import admin_refused
from central.access.console_session import PagePrincipal
from central.access.deps import Principal
from central.core.deps import NowDep, SessionDep
from central.devices.keys import (
    IssuedKey,
    device_in_jurisdiction,
    issue_key,
    list_devices_with_keys,
    revoke_keys,
    rotate_key,
)
from central.devices.outboxes import outboxes_by_code
from central.registry.models import Device
from central.web.forms import PageError
from central.web.templating import PageTemplates, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

DEVICES_URL = "/console/admin/devices"
FormText = Annotated[str, Form()]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
DEVICE_KIND_LABELS = {"camera": "摄像机", "keypad": "评价器", "display": "显示屏", "edge": "边缘盒"}
TEMPLATES = PageTemplates(folder=Path(__file__).parent / "templates")


def _guard(request: Request, principal: Principal) -> HTMLResponse | None:
    return admin_refused(request, principal)  # the form token is checked app-wide (central/access/csrf.py)


def _not_found(request: Request, message: str) -> HTMLResponse:
    return error_page(request, PageError(404, "未找到", message), nav="admin")


def _device_or_404(
    request: Request, session: SessionDep, principal: Principal, code: str
) -> Device | HTMLResponse:
    device = device_in_jurisdiction(session, code=code, within=principal.jurisdiction)
    if device is None:
        return _not_found(request, f"您的辖区内没有编号为“{code[:60]}”的设备。")
    return device


@router.get("/console/admin/devices", response_class=HTMLResponse)
def devices_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    revoked: str | None = None,
) -> HTMLResponse:
    """设备与密钥: each device of the halls wholly in one's jurisdiction, with every key it had, and an
    edge box's outbox disk as it last reported it."""
    if (refused := _guard(request, principal)) is not None:
        return refused
    devices = list_devices_with_keys(session, within=principal.jurisdiction)
    revoked_ids = {k.key_id for d in devices for k in d.keys if k.revoked_at is not None}
    context: dict[str, Any] = {
        "nav": "admin",
        "tab": "devices",
        "principal": principal,
        "devices": devices,
        "outboxes": outboxes_by_code(session, codes=[d.code for d in devices]),
        "kind_labels": DEVICE_KIND_LABELS,
        "revoked": revoked if revoked in revoked_ids else None,  # a made-up link claims nothing
    }
    return render(request, "admin_devices.html", context)


@router.post("/console/admin/devices/{code}/keys", response_class=HTMLResponse, response_model=None)
def issue_submit(
    request: Request,
    code: str,
    principal: PagePrincipal,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """签发密钥: one more key for the device (its other keys stay valid)."""
    if (refused := _guard(request, principal)) is not None:
        return refused
    device = _device_or_404(request, session, principal, code)
    if isinstance(device, HTMLResponse):
        return device
    issued = issue_key(session, device=device, now=now, issued_by=principal.user_id, actor=principal.actor)
    session.commit()
    return _issued_page(request, principal, device, issued, rotated=False)


@router.post("/console/admin/devices/{code}/keys/rotate", response_class=HTMLResponse, response_model=None)
def rotate_submit(
    request: Request,
    code: str,
    principal: PagePrincipal,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """轮换: revoke every key of the device and issue one new key, in one transaction."""
    if (refused := _guard(request, principal)) is not None:
        return refused
    device = _device_or_404(request, session, principal, code)
    if isinstance(device, HTMLResponse):
        return device
    issued = rotate_key(session, device=device, now=now, issued_by=principal.user_id, actor=principal.actor)
    session.commit()
    return _issued_page(request, principal, device, issued, rotated=True)


@router.post(
    "/console/admin/devices/{code}/keys/{key_id}/revoke", response_class=HTMLResponse, response_model=None
)
def revoke_submit(
    request: Request,
    code: str,
    key_id: str,
    principal: PagePrincipal,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """吊销: the key is refused from its very next request."""
    if (refused := _guard(request, principal)) is not None:
        return refused
    device = _device_or_404(request, session, principal, code)
    if isinstance(device, HTMLResponse):
        return device
    if revoke_keys(session, device=device, now=now, actor=principal.actor, key_id=key_id) == 0:
        session.rollback()
        return _not_found(request, f"设备“{device.code}”没有未吊销的密钥“{key_id[:16]}”。")
    session.commit()
    return RedirectResponse(f"{DEVICES_URL}?revoked={quote(key_id)}#device-{quote(device.code)}", 303)


def _issued_page(
    request: Request, principal: Principal, device: Device, issued: IssuedKey, *, rotated: bool
) -> HTMLResponse:
    logger.info("console: %s got key %s for device %s", principal.username, issued.key_id, device.code)
    context: dict[str, Any] = {
        "nav": "admin",
        "tab": "devices",
        "principal": principal,
        "device": device,
        "kind_labels": DEVICE_KIND_LABELS,
        "issued": issued,
        "rotated": rotated,
    }
    return render(request, "admin_key_issued.html", context, headers=NO_STORE)
