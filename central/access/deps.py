"""Authentication dependencies: every non-public endpoint takes a `Principal`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer

from central.access.models import User
from central.access.refusals import PRINCIPAL_STATE
from central.access.roles import PERMISSIONS, Permission, Role
from central.access.service import LoginPolicy, jurisdiction_of_user, user_for_token
from central.access.throttle import ThrottlePolicy
from central.core.actor import Actor
from central.core.config import Settings
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.registry.jurisdiction import Jurisdiction, ScopeError

logger = logging.getLogger(__name__)

SESSION_COOKIE = "hallwatch_session"
_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request, with the jurisdiction every query is limited to."""

    user_id: int
    username: str
    role: Role
    jurisdiction: Jurisdiction
    actor: Actor

    def may(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]


def login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(
        throttle=ThrottlePolicy(
            max_failures=settings.max_failed_logins,
            lockout=timedelta(minutes=settings.lockout_minutes),
            account_delay_after=settings.account_delay_after,
            account_delay_max=timedelta(seconds=settings.account_delay_max_seconds),
        ),
        token_ttl=timedelta(minutes=settings.token_ttl_minutes),
        min_password_length=settings.password_min_length,
    )


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def principal_of(user: User, request: Request, session: SessionDep) -> Principal:
    try:
        jurisdiction = jurisdiction_of_user(session, user)
    except ScopeError as exc:  # the scope was deleted from the registry: no rights left
        raise _unauthorized(f"your jurisdiction no longer exists: {exc}") from exc
    remote = request.client.host if request.client else None
    actor = Actor(kind="user", name=user.username, remote_addr=remote)
    setattr(request.state, PRINCIPAL_STATE, actor)  # refusals past this point name the user
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        jurisdiction=jurisdiction,
        actor=actor,
    )


def get_principal(
    request: Request, session: SessionDep, now: NowDep, token: Annotated[str | None, Depends(_bearer)]
) -> Principal:
    raw = token or request.cookies.get(SESSION_COOKIE)
    if not raw:
        raise _unauthorized("sign in first: send Authorization: Bearer <token> (POST /api/v1/auth/token)")
    user = user_for_token(session, raw=raw, now=now)
    if user is None:
        raise _unauthorized("the token is invalid, expired or revoked")
    return principal_of(user, request, session)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission) -> Callable[[Principal], Principal]:
    def check(principal: PrincipalDep) -> Principal:
        if not principal.may(permission):
            raise HTTPException(403, f"your role ({principal.role.value}) may not {permission.value}")
        return principal

    return check


def settings_policy(settings: SettingsDep) -> LoginPolicy:
    return login_policy(settings)


PolicyDep = Annotated[LoginPolicy, Depends(settings_policy)]
CasesReader = Annotated[Principal, Depends(require(Permission.CASES_READ))]
CasesWriter = Annotated[Principal, Depends(require(Permission.CASES_WRITE))]
RegistryReader = Annotated[Principal, Depends(require(Permission.REGISTRY_READ))]
UserManager = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]
