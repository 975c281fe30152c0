"""Users and tokens: creation with grant checks, login with lockout, token lookup and revocation."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.jurisdiction import Jurisdiction, ScopeKind, jurisdiction_of, resolve_scope_code
from central.access.models import AccessToken, User
from central.access.passwords import check_strength, hash_password, needs_rehash, verify_password
from central.access.roles import Role, can_grant
from central.audit.chain import record
from central.core.actor import Actor

logger = logging.getLogger(__name__)

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{2,63}$")


class AccessError(ValueError):
    """A request about users that cannot be granted; the message says why."""


class GrantError(AccessError):
    """The granter lacks the role's permissions or the jurisdiction (SC-14)."""


class LoginError(AccessError):
    pass


class AccountLockedError(LoginError):
    def __init__(self, until: datetime) -> None:
        super().__init__(f"account locked after repeated failures until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int
    lockout: timedelta
    token_ttl: timedelta


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def jurisdiction_of_user(session: Session, user: User) -> Jurisdiction:
    return jurisdiction_of(session, kind=ScopeKind(user.scope_kind), scope_id=user.scope_id)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    scope_code: str,
    display_name: str | None,
    granted_by: User | None,
    now: datetime,
    actor: Actor,
) -> User:
    """Create a user, with its audit entry; `granted_by` None is the shell bootstrap
    (`hallwatch users create`). Does not commit."""
    if not USERNAME.fullmatch(username):
        raise AccessError("a username is 3–64 letters, digits, '.', '_' or '-'")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccessError(f"user {username!r} already exists")
    check_strength(password, username=username)
    kind, scope_id = resolve_scope_code(session, scope_code)
    if role is Role.POST_USER and kind is not ScopeKind.DEPARTMENT:
        raise AccessError("a post user (岗位用户) is bound to a department")
    if granted_by is not None:
        _check_grant(session, granted_by=granted_by, role=role, kind=kind, scope_id=scope_id)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role.value,
        scope_kind=kind.value,
        scope_id=scope_id,
        active=True,
        failed_logins=0,
        created_at=now,
        confirmed_at=now,
        granted_by_id=granted_by.id if granted_by else None,
        confirmed_by_id=granted_by.id if granted_by else None,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action="user.created",
        target_type="user",
        target_id=username,
        after={"role": role.value, "scope": scope_code},
        at=now,
    )
    logger.info("user %s created (%s at %s:%s)", username, role.value, kind.value, scope_id)
    return user


def _check_grant(session: Session, *, granted_by: User, role: Role, kind: ScopeKind, scope_id: int) -> None:
    if not can_grant(Role(granted_by.role), role):
        raise GrantError(f"a {granted_by.role} cannot grant the role {role.value}")
    mine = jurisdiction_of_user(session, granted_by)
    if not mine.contains(jurisdiction_of(session, kind=kind, scope_id=scope_id)):
        raise GrantError("rights can only be granted within your own jurisdiction")


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    now: datetime,
    policy: LoginPolicy,
    remote_addr: str | None = None,
) -> User:
    """Check a password, counting failures; locks the account after `max_failures`. Commits, with
    an audit entry for every sign-in, failure and lockout (unknown usernames included)."""
    actor = Actor(kind="user", name=username[:64], remote_addr=remote_addr)
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and user.locked_until is not None and user.locked_until > now:
        verify_password(None, password)  # same work as a real check
        _audit(session, actor, "auth.refused_locked", now=now)
        session.commit()
        raise AccountLockedError(user.locked_until)
    if user is None or not verify_password(user.password_hash, password) or not user.active:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= policy.max_failures:
                user.locked_until, user.failed_logins = now + policy.lockout, 0
                logger.warning("user %s locked after repeated failed logins", username)
                _audit(session, actor, "auth.locked", now=now, after={"until": user.locked_until.isoformat()})
        _audit(session, actor, "auth.sign_in_failed", now=now)
        session.commit()
        raise LoginError("wrong username or password")
    user.failed_logins, user.locked_until = 0, None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _audit(session, actor, "auth.signed_in", now=now)
    session.commit()
    return user


def _audit(session: Session, actor: Actor, action: str, *, now: datetime, after: Any = None) -> None:
    record(session, actor=actor, action=action, target_type="user", target_id=actor.name, after=after, at=now)


def issue_token(
    session: Session, *, user: User, now: datetime, policy: LoginPolicy
) -> tuple[str, AccessToken]:
    raw = secrets.token_urlsafe(32)
    token = AccessToken(
        token_hash=token_digest(raw), user_id=user.id, created_at=now, expires_at=now + policy.token_ttl
    )
    session.add(token)
    session.commit()
    return raw, token


def user_for_token(session: Session, *, raw: str, now: datetime) -> User | None:
    """The active user behind an unexpired, unrevoked token; None otherwise."""
    token = session.scalar(select(AccessToken).where(AccessToken.token_hash == token_digest(raw)))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    user = session.get(User, token.user_id)
    return user if user is not None and user.active else None


def revoke_token(session: Session, *, raw: str, now: datetime) -> bool:
    token = session.scalar(select(AccessToken).where(AccessToken.token_hash == token_digest(raw)))
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = now
    session.commit()
    return True
