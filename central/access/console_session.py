"""Console sign-in: the same opaque token as the API, kept in an HttpOnly cookie."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from central.access.deps import SESSION_COOKIE, Principal, principal_of
from central.access.service import user_for_token
from central.core.deps import NowDep, SessionDep

logger = logging.getLogger(__name__)


class SignInRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def page_principal(request: Request, session: SessionDep, now: NowDep) -> Principal:
    raw = request.cookies.get(SESSION_COOKIE)
    user = user_for_token(session, raw=raw, now=now) if raw else None
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return principal_of(user, request, session)


PagePrincipal = Annotated[Principal, Depends(page_principal)]


async def redirect_to_sign_in(_request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/console/login?next={quote(exc.next_url, safe='')}", status_code=303)


def safe_next(next_url: str | None) -> str:
    """Only same-site paths: an open redirect would let a phishing link bounce through us."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//") and "\\" not in next_url:
        return next_url
    return "/console/cases"
