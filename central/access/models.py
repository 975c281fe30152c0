"""User and token tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.core.db import Base
from central.core.types import UTCDateTime


class User(Base):
    """A person with one role, bound to one jurisdiction: a region, a hall or a department."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(24))
    scope_kind: Mapped[str] = mapped_column(String(12))  # region | hall | department
    scope_id: Mapped[int] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # SC-15: permissions are reviewed periodically; this is when they were last confirmed.
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The staff member this account belongs to, if any: their own score page (SZ-19, issue 17).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id], remote_side=[id])

    # `ADMIN` beside `admin` would be two accounts a person cannot tell apart: unique ignoring case.
    __table_args__ = (Index("uq_users_username_lower", func.lower(username), unique=True),)


class SignInFailure(Base):
    """Failed sign-ins in a row for one username (existing or not, lower-cased) from one source
    address, or from every source (`source` = `*`): the per-source lock and the per-account delay
    (central/access/throttle.py). Unknown usernames get rows too, so they answer as known ones do."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (UniqueConstraint("username_key", "source", name="uq_sign_in_failures_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username_key: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RefusalTally(Base):
    """Refused requests of one (caller, action, target) in one window: the first is in the audit
    chain, the rest are counted here (central/access/refusals.py), so a flood writes one row, not a
    chain entry each, and a restart loses no count. `carried` once a later chain entry holds it."""

    __tablename__ = "refusal_tallies"
    __table_args__ = (
        UniqueConstraint("caller", "action", "target", "window_start", name="uq_refusal_tallies_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(default=1)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_detail: Mapped[str | None] = mapped_column(String(500))
    carried: Mapped[bool] = mapped_column(default=False)


class AccessToken(Base):
    """An opaque bearer token; only its SHA-256 is stored, so a database leak yields no tokens."""

    __tablename__ = "access_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class DeviceKey(Base):
    """A device's own key (edge agent, keypad gateway, display agent), scoped to the device's hall.

    Only the SHA-256 of the secret is kept; the key is shown once when issued. Rotation issues a new
    key and revokes the old one; a revoked key is refused on its next request.
    """

    __tablename__ = "device_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
