"""Login, logout, who am I; user administration within one's jurisdiction (SC-14/15)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from central.access.deps import SESSION_COOKIE, PolicyDep, PrincipalDep, UserManager
from central.access.models import User
from central.access.passwords import WeakPasswordError
from central.access.schemas import StaffLinkIn, StaffLinkOut, TokenOut, UserCreate, UserPublic
from central.access.service import (
    AccessError,
    GrantError,
    LoginError,
    SelfConfirmError,
    UserNotFoundError,
    UserReview,
    create_user,
    issue_token,
    record_grant_refusal,
    revoke_token,
    user_review,
)
from central.access.service import confirm_user as service_confirm_user
from central.access.service import review_users as service_review_users
from central.access.sign_in import SignInRefused, retry_after, sign_in
from central.access.staff_link import StaffLinkError, link_staff, user_within
from central.audit.chain import record
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.registry.jurisdiction import Jurisdiction, ScopeError

logger = logging.getLogger(__name__)
router = APIRouter(tags=["access"])


@router.post("/auth/token", response_model=TokenOut)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    now: NowDep,
    policy: PolicyDep,
) -> TokenOut:
    try:
        user = sign_in(
            request, session=session, username=form.username, password=form.password, now=now, policy=policy
        )
    except SignInRefused as exc:
        raise HTTPException(exc.status, str(exc), headers={"Retry-After": retry_after(exc, now)}) from exc
    except LoginError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    raw, token = issue_token(session, user=user, now=now, policy=policy)
    return TokenOut(access_token=raw, expires_at=token.expires_at)


@router.post("/auth/logout", status_code=204)
def logout(
    request: Request, response: Response, principal: PrincipalDep, session: SessionDep, now: NowDep
) -> Response:
    header = request.headers.get("authorization", "")
    raw = (
        header.removeprefix("Bearer ").strip()
        if header.startswith("Bearer ")
        else request.cookies.get(SESSION_COOKIE)
    )
    if raw:
        revoke_token(session, raw=raw, now=now)
        record(
            session,
            actor=principal.actor,
            action="auth.signed_out",
            target_type="user",
            target_id=principal.username,
            at=now,
        )
        session.commit()
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE)
    logger.info("user %s logged out", principal.username)
    return response


@router.get("/auth/me", response_model=UserPublic)
def me(principal: PrincipalDep, session: SessionDep, settings: SettingsDep, now: NowDep) -> UserPublic:
    user = session.get(User, principal.user_id)
    assert user is not None
    return _public(session, user, settings=settings, now=now)


@router.post("/users", response_model=UserPublic, status_code=201)
def add_user(
    body: UserCreate, principal: UserManager, session: SessionDep, settings: SettingsDep, now: NowDep
) -> UserPublic:
    granter = session.get(User, principal.user_id)
    try:
        user = create_user(
            session,
            username=body.username,
            password=body.password,
            role=body.role,
            scope_code=body.scope,
            display_name=body.display_name,
            granted_by=granter,
            now=now,
            actor=principal.actor,
            min_password_length=settings.password_min_length,
        )
    except (AccessError, ScopeError, WeakPasswordError) as exc:
        session.rollback()
        if isinstance(exc, GrantError):  # an attempt to exceed one's rights is worth a record
            record_grant_refusal(
                session,
                actor=principal.actor,
                username=body.username,
                role=body.role,
                scope_code=body.scope,
                why=exc,
                now=now,
            )
            session.commit()
        raise HTTPException(403 if isinstance(exc, GrantError) else 422, str(exc)) from exc
    session.commit()
    return _public(session, user, settings=settings, now=now)


@router.get("/users", response_model=list[UserPublic])
def review_users(
    principal: UserManager, session: SessionDep, settings: SettingsDep, now: NowDep
) -> list[UserPublic]:
    """Who holds what, and when it was last confirmed (SC-15 periodic review)."""
    found = service_review_users(
        session, within=principal.jurisdiction, now=now, review_after=_review_after(settings)
    )
    return [_shape(line) for line in found]


@router.post("/users/{username}/confirm", response_model=UserPublic)
def confirm_user(
    username: str, principal: UserManager, session: SessionDep, settings: SettingsDep, now: NowDep
) -> UserPublic:
    try:
        user, scope = service_confirm_user(
            session,
            username=username,
            within=principal.jurisdiction,
            confirmer_id=principal.user_id,
            now=now,
            actor=principal.actor,
        )
    except UserNotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    except SelfConfirmError as exc:
        raise HTTPException(403, str(exc)) from exc
    session.commit()
    return _public(session, user, scope=scope, settings=settings, now=now)


@router.put("/users/{username}/staff", response_model=StaffLinkOut)
def put_user_staff(
    username: str, body: StaffLinkIn, principal: UserManager, session: SessionDep, now: NowDep
) -> StaffLinkOut:
    """The member of staff the account belongs to (their own score page); inside its jurisdiction."""
    try:
        user = user_within(session, username=username, within=principal.jurisdiction)
        link_staff(session, user=user, staff_code=body.staff, actor=principal.actor, now=now)
    except UserNotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    except StaffLinkError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from exc
    session.commit()
    return StaffLinkOut(username=user.username, staff=body.staff)


def _review_after(settings: SettingsDep) -> timedelta:
    return timedelta(days=settings.review_after_days)


def _public(
    session: SessionDep, user: User, *, settings: SettingsDep, now: NowDep, scope: Jurisdiction | None = None
) -> UserPublic:
    return _shape(user_review(session, user=user, now=now, review_after=_review_after(settings), scope=scope))


def _shape(line: UserReview) -> UserPublic:
    user = line.user
    return UserPublic(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        scope_kind=user.scope_kind,
        scope_code=line.scope_code,
        active=user.active,
        locked_until=user.locked_until,
        granted_by=line.granted_by,
        confirmed_at=user.confirmed_at,
        review_due=line.review_due,
    )
