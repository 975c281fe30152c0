"""Console sign-in and sign-out pages (zh-CN), and what access brings to the console's templates:
its folder (sign-in, user administration) and the names the shared layout calls for the signed-in
user (`role_label`, `csrf_input`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from central.access.console_session import PagePrincipal, safe_next
from central.access.csrf import csrf_input
from central.access.deps import SESSION_COOKIE, PolicyDep
from central.access.roles import ROLE_LABELS, Role
from central.access.service import LoginError, issue_token, revoke_token
from central.access.sign_in import SignInRefused, retry_after, sign_in
from central.core.clock import SHANGHAI
from central.core.deps import NowDep, SessionDep
from central.web.templating import PageTemplates, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def role_label(role: Role) -> str:
    return ROLE_LABELS[role]


TEMPLATES = PageTemplates(
    folder=Path(__file__).parent / "templates",
    globals={"role_label": role_label, "csrf_input": csrf_input},  # csrf_input: every POST form's token
)


@router.get("/console/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/console/login", response_model=None)
def login_submit(
    request: Request,
    session: SessionDep,
    now: NowDep,
    policy: PolicyDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=2000)] = "/console/cases",
) -> Response:
    try:
        user = sign_in(request, session=session, username=username, password=password, now=now, policy=policy)
    except SignInRefused as exc:
        until = exc.until.astimezone(SHANGHAI).strftime("%H:%M:%S")
        message = f"登录失败次数过多，请于 {until} 之后再试。"
        return _again(request, next, message, exc.status, headers={"Retry-After": retry_after(exc, now)})
    except LoginError:
        return _again(request, next, "用户名或密码错误。", 401)
    raw, token = issue_token(session, user=user, now=now, policy=policy)
    response = RedirectResponse(safe_next(next), status_code=303)
    max_age = int((token.expires_at - now).total_seconds())
    secure = request.url.scheme == "https"  # behind a TLS proxy: HALLWATCH_FORWARDED_ALLOW_IPS
    response.set_cookie(
        SESSION_COOKIE, raw, max_age=max_age, httponly=True, samesite="strict", path="/", secure=secure
    )
    logger.info("user %s signed in to the console", user.username)
    return response


@router.get("/console/logout", response_class=HTMLResponse)
def logout_page(request: Request, principal: PagePrincipal) -> HTMLResponse:
    """A bookmarked 退出 link: a page with the form, since a GET must not end the session (CSRF)."""
    return render(request, "logout.html", {"principal": principal, "nav": ""})


@router.post("/console/logout")
def logout_submit(
    request: Request, _principal: PagePrincipal, session: SessionDep, now: NowDep
) -> RedirectResponse:
    """退出: ends the session (the form token is checked app-wide, as on every form)."""
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        revoke_token(session, raw=raw, now=now)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _again(
    request: Request, next_url: str, error: str, status: int, headers: dict[str, str] | None = None
) -> HTMLResponse:
    return render(
        request,
        "login.html",
        {"next": safe_next(next_url), "error": error},
        status_code=status,
        headers=headers,
    )
