"""Device keys: issue, rotate, revoke, and authenticate a device by its key (scoped to its hall)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.models import DeviceKey, User
from central.audit.chain import record
from central.core.actor import Actor
from central.devices.notifier import KEY_REVOKED, publish_after_commit
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.registry.models import Device, Hall

logger = logging.getLogger(__name__)

KEY_FORMAT = re.compile(r"^hwk_([0-9a-f]{16})_([A-Za-z0-9_\-]{43})$")


@dataclass(frozen=True)
class DevicePrincipal:
    """An authenticated device: what it is and the one hall it may speak for."""

    device_id: int
    device_code: str
    kind: str
    hall_id: int
    hall_code: str
    key_id: str

    @property
    def actor(self) -> Actor:
        return Actor(kind="device", name=self.device_code)

    @classmethod
    def of(cls, device: Device, hall: Hall, *, key_id: str) -> DevicePrincipal:
        return cls(
            device_id=device.id,
            device_code=device.code,
            kind=device.kind,
            hall_id=hall.id,
            hall_code=hall.code,
            key_id=key_id,
        )


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    key: str  # shown once; only its hash is stored


@dataclass(frozen=True)
class KeyView:
    """A key as administrators see it: never the secret, which only its holder has."""

    key_id: str
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None  # written at most once a minute
    revoked_at: datetime | None


@dataclass(frozen=True)
class DeviceView:
    code: str
    kind: str
    name: str
    hall_code: str
    hall_name: str
    keys: tuple[KeyView, ...]  # newest first

    @property
    def active_keys(self) -> tuple[KeyView, ...]:
        return tuple(k for k in self.keys if k.revoked_at is None)


def device_in_jurisdiction(session: Session, *, code: str, within: Jurisdiction) -> Device | None:
    """The device, if its whole hall lies in `within`; None for another jurisdiction's, as if missing."""
    device = session.scalar(select(Device).where(Device.code == code))
    if device is None or not within.covers_hall(device.hall_id):
        return None
    return device


def list_devices_with_keys(session: Session, *, within: Jurisdiction) -> list[DeviceView]:
    """The devices of the halls wholly inside `within` (none for a department), each with its keys."""
    query = select(Device, Hall).join(Hall, Hall.id == Device.hall_id).order_by(Hall.code, Device.code)
    if within.kind is ScopeKind.DEPARTMENT:
        return []
    if within.kind is not ScopeKind.DEPLOYMENT:
        query = query.where(Device.hall_id.in_(sorted(within.hall_ids)))
    rows = list(session.execute(query))
    keys: dict[int, list[KeyView]] = {}
    if rows:
        found = session.execute(
            select(DeviceKey, User.username)
            .outerjoin(User, User.id == DeviceKey.created_by_id)
            .where(DeviceKey.device_id.in_([device.id for device, _ in rows]))
            .order_by(DeviceKey.created_at.desc(), DeviceKey.id.desc())
        )
        for key, username in found:
            keys.setdefault(key.device_id, []).append(
                KeyView(key.key_id, key.created_at, username, key.last_used_at, key.revoked_at)
            )
    return [DeviceView(d.code, d.kind, d.name, h.code, h.name, tuple(keys.get(d.id, []))) for d, h in rows]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    session: Session,
    *,
    device: Device,
    now: datetime,
    issued_by: int | None,
    actor: Actor,
    action: str = "device_key.issued",
) -> IssuedKey:
    """A new key for a device, with its audit entry. Does not commit."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    session.add(
        DeviceKey(
            key_id=key_id,
            secret_hash=_digest(secret),
            device_id=device.id,
            created_at=now,
            created_by_id=issued_by,
        )
    )
    session.flush()
    _audit(session, actor, action, device, key_id, now=now)
    logger.info("device %s: key %s issued", device.code, key_id)
    return IssuedKey(key_id=key_id, key=f"hwk_{key_id}_{secret}")


def revoke_keys(
    session: Session, *, device: Device, now: datetime, actor: Actor, key_id: str | None = None
) -> int:
    """Revoke one key of a device, or all of them, with an audit entry each. Does not commit.
    Returns how many were revoked."""
    query = select(DeviceKey).where(DeviceKey.device_id == device.id, DeviceKey.revoked_at.is_(None))
    if key_id is not None:
        query = query.where(DeviceKey.key_id == key_id)
    keys = list(session.scalars(query))
    for key in keys:
        key.revoked_at = now
        _audit(session, actor, "device_key.revoked", device, key.key_id, now=now)
        publish_after_commit(session, KEY_REVOKED, key.key_id)  # its open channels close, everywhere
    logger.info("device %s: %d key(s) revoked", device.code, len(keys))
    return len(keys)


def rotate_key(
    session: Session, *, device: Device, now: datetime, issued_by: int | None, actor: Actor
) -> IssuedKey:
    """Revoke every key of the device and issue a new one, in one transaction. Does not commit."""
    revoke_keys(session, device=device, now=now, actor=actor)
    return issue_key(
        session, device=device, now=now, issued_by=issued_by, actor=actor, action="device_key.rotated"
    )


def _audit(
    session: Session, actor: Actor, action: str, device: Device, key_id: str, *, now: datetime
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        target_type="device",
        target_id=device.code,
        after={"key_id": key_id},
        at=now,
    )


class KeyCache(Protocol):
    """Keys checked lately (central.devices.key_cache.DeviceKeyCache)."""

    def fetch(
        self, key_id: str, digest: str, look_up: Callable[[], DevicePrincipal | None]
    ) -> DevicePrincipal | None: ...


def authenticate_device(
    session: Session, *, presented: str, now: datetime, cache: KeyCache | None = None
) -> DevicePrincipal | None:
    """The device behind a presented key, or None for a malformed, unknown or revoked key; from
    `cache` when it holds the key (central.devices.key_cache says when it may)."""
    match = KEY_FORMAT.fullmatch(presented)
    if match is None:
        return None
    key_id, secret = match.groups()
    digest = _digest(secret)
    if cache is None:
        return _look_up(session, key_id=key_id, digest=digest, now=now)
    return cache.fetch(key_id, digest, lambda: _look_up(session, key_id=key_id, digest=digest, now=now))


def _look_up(session: Session, *, key_id: str, digest: str, now: datetime) -> DevicePrincipal | None:
    row = session.execute(
        select(DeviceKey, Device, Hall)
        .join(Device, Device.id == DeviceKey.device_id)
        .join(Hall, Hall.id == Device.hall_id)
        .where(DeviceKey.key_id == key_id)
    ).first()
    if row is None:
        return None
    key, device, hall = row
    if key.revoked_at is not None or not hmac.compare_digest(key.secret_hash, digest):
        return None
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        key.last_used_at = now  # at most one write a minute per key, not one per request
        session.commit()
    return DevicePrincipal.of(device, hall, key_id=key_id)
