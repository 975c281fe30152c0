"""`hallwatch devices …`: device keys from the operator's shell (the page 设备密钥 and the API beside it).

The shell is trusted like `users create` (no grant check); every change is audited with the
operating-system user as the actor, as the page audits the signed-in administrator. A new key goes to
standard output once, alone on its line (`KEY=$(hallwatch devices keys issue EDGE-1)` in a script);
what was done goes to standard error, so the key never lands in a log that captures only the message.
"""

from __future__ import annotations

import logging

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.cli.common import cli_actor, cli_session, console, errors, fail
from central.core.clock import system_clock
from central.devices.keys import (
    IssuedKey,
    issue_key,
    list_devices_with_keys,
    revoke_keys,
    rotate_key,
)
from central.registry.jurisdiction import ScopeKind, jurisdiction_of
from central.registry.models import Device

logger = logging.getLogger(__name__)

app = typer.Typer(help="Devices and their keys (设备密钥).", no_args_is_help=True)
keys_app = typer.Typer(help="Issue, rotate and revoke a device's keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

CodeArgument = typer.Argument(..., help="The device's code, as in the registry (e.g. EDGE-510000-ZWFW).")


@app.command("list")
def devices_list() -> None:
    """Every device with its active keys (ids only: a key's secret is never stored)."""
    with cli_session() as (_settings, session):
        devices = list_devices_with_keys(
            session, within=jurisdiction_of(session, kind=ScopeKind.DEPLOYMENT, scope_id=0)
        )
    for device in devices:
        active = ", ".join(k.key_id for k in device.active_keys) or "无有效密钥 (no active key)"
        console.print(f"{device.code}\t{device.kind}\t{device.hall_code}\t{active}", highlight=False)


@keys_app.command("issue")
def keys_issue(code: str = CodeArgument) -> None:
    """One more key for the device (its other keys stay valid); prints the key once."""
    _change_key(code, rotate=False)


@keys_app.command("rotate")
def keys_rotate(code: str = CodeArgument) -> None:
    """Revoke every key of the device and issue a new one, in one transaction; prints the key once."""
    _change_key(code, rotate=True)


@keys_app.command("revoke")
def keys_revoke(
    code: str = CodeArgument,
    key_id: str | None = typer.Option(None, "--key-id", help="Only this key (default: every key)."),
) -> None:
    """Revoke the device's keys (or one of them): refused at once, on every central instance."""
    now = system_clock()
    with cli_session() as (_settings, session):
        device = _device(session, code)
        revoked = revoke_keys(session, device=device, now=now, actor=cli_actor(), key_id=key_id)
        if key_id is not None and revoked == 0:
            session.rollback()
            raise fail(f"设备 {code} 没有有效的密钥 {key_id} (no active key {key_id!r} of device {code!r})")
        session.commit()
    errors.print(f"已吊销设备 {code} 的密钥 {revoked} 个 (revoked {revoked} key(s))", highlight=False)


def _change_key(code: str, *, rotate: bool) -> None:
    now = system_clock()
    with cli_session() as (_settings, session):
        device = _device(session, code)
        change = rotate_key if rotate else issue_key
        issued: IssuedKey = change(session, device=device, now=now, issued_by=None, actor=cli_actor())
        session.commit()
    what = "已轮换" if rotate else "已签发"
    errors.print(
        f"{what}设备 {code} 的密钥 {issued.key_id}；密钥只显示这一次，请立即配置到设备上 "
        "(the key is shown once: configure it on the device now)",
        highlight=False,
    )
    print(issued.key)  # plain print: no console wrapping or markup may touch the secret


def _device(session: Session, code: str) -> Device:
    device = session.scalar(select(Device).where(Device.code == code))
    if device is None:
        raise fail(f"没有编号为 {code} 的设备 (no device {code!r}; see `hallwatch devices list`)")
    return device
