"""Users and tokens: creation with grant checks, login with lockout, token lookup and revocation."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.access import throttle
from central.access.models import AccessToken, User
from central.access.passwords import (
    MIN_PASSWORD_LENGTH,
    check_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from central.access.roles import Role, can_grant
from central.audit.chain import record
from central.core.actor import Actor
from central.registry.jurisdiction import (
    Jurisdiction,
    ScopeError,
    ScopeKind,
    jurisdiction_of,
    resolve_scope_code,
)
from central.registry.models import Department, Hall, Region

logger = logging.getLogger(__name__)

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{2,63}$")


class AccessError(ValueError):
    """A request about users that cannot be granted; the message says why."""


class GrantError(AccessError):
    """The granter lacks the role's permissions or the jurisdiction (SC-14)."""


class UsernameError(AccessError):
    """The username is not 3–64 letters, digits, '.', '_' or '-'."""


class UserExistsError(AccessError):
    pass


class PostUserScopeError(AccessError):
    """A post user (岗位用户) is bound to a department, never to a hall or region."""


class RoleGrantError(GrantError):
    """The granter's role lacks some permission of the role granted (SC-14)."""


class JurisdictionGrantError(GrantError):
    """The scope granted lies outside the granter's own jurisdiction (SC-14)."""


class UserNotFoundError(AccessError):
    """No such user in the caller's jurisdiction (another jurisdiction's user looks the same)."""


class SelfConfirmError(AccessError):
    """Nobody confirms their own rights in the permission review (SC-15)."""


class GranterConfirmError(SelfConfirmError):
    """Nor the rights of the account that created them: a pair could vouch for each other (SC-15)."""


class LoginError(AccessError):
    pass


@dataclass(frozen=True)
class LoginPolicy:
    throttle: throttle.ThrottlePolicy
    token_ttl: timedelta
    min_password_length: int = MIN_PASSWORD_LENGTH


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
    min_password_length: int = MIN_PASSWORD_LENGTH,
) -> User:
    """Create a user, with its audit entry; `granted_by` None is the shell bootstrap
    (`hallwatch users create`). Usernames are unique ignoring case. Does not commit."""
    if not USERNAME.fullmatch(username):
        raise UsernameError("a username is 3–64 letters, digits, '.', '_' or '-'")
    if find_user(session, username=username) is not None:
        raise UserExistsError(f"user {username!r} already exists (usernames ignore case)")
    check_strength(password, username=username, min_length=min_password_length)
    kind, scope_id = resolve_scope_code(session, scope_code)
    if role is Role.POST_USER and kind is not ScopeKind.DEPARTMENT:
        raise PostUserScopeError("a post user (岗位用户) is bound to a department")
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


def record_grant_refusal(
    session: Session,
    *,
    actor: Actor,
    username: str,
    role: Role,
    scope_code: str,
    why: GrantError,
    now: datetime,
) -> None:
    """Audit an attempt to grant more than one holds (SC-14); call after rolling the attempt back.
    Does not commit."""
    record(
        session,
        actor=actor,
        action="user.grant_refused",
        target_type="user",
        target_id=username[:64],
        after={"role": role.value, "scope": scope_code, "why": str(why)},
        at=now,
    )


def _check_grant(session: Session, *, granted_by: User, role: Role, kind: ScopeKind, scope_id: int) -> None:
    if not can_grant(Role(granted_by.role), role):
        raise RoleGrantError(f"a {granted_by.role} cannot grant the role {role.value}")
    mine = jurisdiction_of_user(session, granted_by)
    if not mine.contains(jurisdiction_of(session, kind=kind, scope_id=scope_id)):
        raise JurisdictionGrantError("rights can only be granted within your own jurisdiction")


@dataclass(frozen=True)
class UserReview:
    """One line of the permission review (SC-15): who holds what, granted by whom, confirmed when."""

    user: User
    scope_code: str
    granted_by: str | None
    review_due: bool


def user_review(
    session: Session, *, user: User, now: datetime, review_after: timedelta, scope: Jurisdiction | None = None
) -> UserReview:
    scope = scope or jurisdiction_of_user(session, user)
    granter = session.get(User, user.granted_by_id) if user.granted_by_id else None
    return UserReview(
        user=user,
        scope_code=scope.code,
        granted_by=granter.username if granter else None,
        review_due=user.confirmed_at + review_after < now,
    )


def review_users(
    session: Session, *, within: Jurisdiction, now: datetime, review_after: timedelta
) -> list[UserReview]:
    """Every user whose scope lies inside `within`, by username. A user whose scope has left the
    registry holds no rights any more; only the deployment scope still sees them (code `?`)."""
    scopes: dict[tuple[str, int], Jurisdiction | None] = {}  # many users share a scope: resolve each once
    found = []
    for user in session.scalars(select(User).order_by(User.username)):
        key = (user.scope_kind, user.scope_id)
        if key not in scopes:
            try:
                scopes[key] = jurisdiction_of_user(session, user)
            except ScopeError:
                scopes[key] = None
        scope = scopes[key]
        if scope is None and within.kind is ScopeKind.DEPLOYMENT:
            none: frozenset[int] = frozenset()
            scope = Jurisdiction(ScopeKind(user.scope_kind), user.scope_id, "?", none, none, none)
        if scope is not None and within.contains(scope):
            found.append(user_review(session, user=user, now=now, review_after=review_after, scope=scope))
    return found


@dataclass(frozen=True)
class ScopeChoice:
    """A scope one may grant, as `create_user` takes it (`region:CODE` …), with its registry name."""

    code: str
    name: str


def scope_choices(session: Session, *, within: Jurisdiction) -> list[ScopeChoice]:
    """The regions, halls and departments inside `within`, for a form's suggestions. The deployment
    scope (`*`) itself is left to the caller."""
    everything = within.kind is ScopeKind.DEPLOYMENT
    regions = select(Region.code, Region.name).order_by(Region.code)
    halls = select(Hall.code, Hall.name).order_by(Hall.code)
    departments = select(Department.code, Department.name).order_by(Department.code)
    if not everything:
        region_ids = within.region_ids if within.kind is ScopeKind.REGION else frozenset()
        regions = regions.where(Region.id.in_(sorted(region_ids)))
        hall_ids = within.hall_ids if within.kind is not ScopeKind.DEPARTMENT else frozenset()
        halls = halls.where(Hall.id.in_(sorted(hall_ids)))
        departments = departments.where(Department.id.in_(sorted(within.department_ids)))
    found = []
    for kind, query in (("region", regions), ("hall", halls), ("department", departments)):
        found += [ScopeChoice(f"{kind}:{code}", name) for code, name in session.execute(query)]
    return found


def confirm_user(
    session: Session,
    *,
    username: str,
    within: Jurisdiction,
    confirmer_id: int,
    now: datetime,
    actor: Actor,
) -> tuple[User, Jurisdiction]:
    """Confirm a user's rights as still needed (SC-15), with its audit entry. Does not commit.
    Raises UserNotFoundError outside `within`, SelfConfirmError for one's own rights or those of
    the account that granted the confirmer's (they would vouch for each other)."""
    user = find_user(session, username=username)
    try:
        scope = jurisdiction_of_user(session, user) if user is not None else None
    except ScopeError:
        scope = None
    if user is None or scope is None or not within.contains(scope):
        raise UserNotFoundError(f"no user {username} in your jurisdiction")
    if user.id == confirmer_id:
        raise SelfConfirmError("nobody confirms their own rights")
    confirmer = session.get(User, confirmer_id)
    if confirmer is not None and confirmer.granted_by_id == user.id:
        raise GranterConfirmError("nobody confirms the rights of the account that granted theirs")
    before = user.confirmed_at.isoformat()
    user.confirmed_at, user.confirmed_by_id = now, confirmer_id
    record(
        session,
        actor=actor,
        action="user.confirmed",
        target_type="user",
        target_id=user.username,
        before={"confirmed_at": before},
        after={"confirmed_at": now.isoformat()},
        at=now,
    )
    logger.info("user %s: rights confirmed by #%d", username, confirmer_id)
    return user, scope


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    now: datetime,
    policy: LoginPolicy,
    remote_addr: str | None = None,
) -> User:
    """Check a password against the throttle (central/access/throttle.py). Exactly one argon2
    verification on every path — unknown user, throttled, inactive, wrong or right password — so
    neither time nor answer tells whether a username exists. Commits; audits the sign-in. Raises
    SignInRefused (throttled) or LoginError; the caller audits those (as refusals, rate-limited)."""
    key, source = throttle.username_key(username), remote_addr or "?"
    user = find_user(session, username=username)
    refused = throttle.refusal(session, key=key, source=source, now=now)
    right = verify_password(user.password_hash if user is not None else None, password)
    if refused is not None:
        raise refused
    if user is None or not right or not user.active:
        throttle.note_failure(session, key=key, source=source, now=now, policy=policy.throttle)
        session.commit()
        raise LoginError("wrong username or password")
    throttle.note_success(session, key=key, source=source)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    actor = Actor(kind="user", name=user.username, remote_addr=remote_addr)
    _audit(session, actor, "auth.signed_in", now=now)
    session.commit()
    return user


def find_user(session: Session, *, username: str) -> User | None:
    """The user of `username`, ignoring case (usernames are unique ignoring case)."""
    return session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


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
