"""CSRF: a state-changing request authenticated only by the console's session cookie must carry the
session's form token — in the form field `csrf_token` (console forms) or the `X-CSRF-Token` header.

The session cookie is HttpOnly and SameSite=Strict (central/access/login_pages.py), so a browser does not send
it with a request started from another *site*. That is not enough: a "site" is the registrable
domain, so another system on a sibling subdomain of the same government domain (say `oa.sc.gov.cn`
beside `hallwatch.sc.gov.cn`) is same-site and its pages could post here with the cookie attached.

The token is SHA-256 of the cookie under a fixed label: another origin cannot read it (the cookie is
HttpOnly, the same-origin policy hides our pages), it changes with every sign-in, it needs no
server-side state, and the cookie cannot be recovered from it. A request with a bearer token is not
checked: a browser never adds `Authorization` by itself, and a cross-origin page cannot set it without
a CORS preflight, which central does not grant. As defence in depth, such a request is also refused
when its `Origin` (or, without one, its `Referer`) names another origin.

One dependency (`csrf_guard`) is installed on the whole app, so every route — every console form and
every API call — is covered, new ones included; templates render the field with `csrf_input()`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from central.access.credentials import CREDENTIAL_STATE, Credential
from central.access.deps import SESSION_COOKIE
from central.access.refusals import audit_refusal
from central.web.forms import PageError
from central.web.templating import error_page

logger = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
UNCHECKED = frozenset({Credential.PUBLIC, Credential.DEVICE})  # sign-in, devices: no cookie signs them
PAGE_MESSAGE = "表单已失效或并非来自本系统的页面，操作未执行。请返回原页面刷新后重试。"


class CsrfRefused(Exception):
    """Raised by `csrf_guard`; the app answers 403 (a Chinese page on the console) and audits it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def token_of_cookie(raw: str) -> str:
    return hashlib.sha256(b"hallwatch.console-form\x00" + raw.encode()).hexdigest()


def csrf_token(request: Request) -> str:
    """The form token of the signed-in session (empty when there is no session cookie)."""
    raw = request.cookies.get(SESSION_COOKIE)
    return token_of_cookie(raw) if raw else ""


@pass_context
def csrf_input(context: Context) -> Markup:
    """`{{ csrf_input() }}` in every `<form method="post">` of the console's templates."""
    token = csrf_token(context["request"])
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)


def needs_token(request: Request) -> bool:
    """A state-changing request that the session cookie could authenticate. The middleware in front
    of the body (central/access/auth_first.py) noted which credential the route takes: sign-in and
    the device API are skipped, console pages always checked (they read only the cookie), and an
    API call with a bearer token skipped (the cookie is then not what signs it). Unknown: checked."""
    if request.method in SAFE_METHODS or not request.cookies.get(SESSION_COOKIE):
        return False
    credential = getattr(request.state, CREDENTIAL_STATE, None)
    if credential in UNCHECKED:
        return False
    bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
    return credential == Credential.PAGE or not bearer


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def foreign_origin(request: Request) -> str | None:
    """The other host a request says it came from (Origin, else Referer); None when it is ours.
    Hosts, not schemes, are compared: behind a TLS proxy that is not (yet) named in
    HALLWATCH_FORWARDED_ALLOW_IPS the request's scheme is http while the browser's is https."""
    stated = request.headers.get("origin") or request.headers.get("referer")
    if not stated or stated == "null":
        return stated  # "null": a sandboxed frame, a data: URL or a redirect chain — never our page
    theirs = _host(stated)
    return None if theirs == _host(str(request.base_url)) else theirs


async def presented_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    if request.headers.get("content-type", "").lower().startswith(FORM_TYPES):
        form = await request.form()  # FastAPI parsed it already: this is the cached copy
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def csrf_guard(request: Request) -> None:
    """App-wide dependency: refuse a cookie-authenticated state change without this session's token."""
    if not needs_token(request):
        return
    foreign = foreign_origin(request)
    if foreign is not None:
        raise CsrfRefused(f"request from another origin ({foreign[:100]})")
    presented = (await presented_token(request)).strip()
    if not hmac.compare_digest(csrf_token(request), presented):
        raise CsrfRefused("missing form token" if not presented else "wrong form token")


async def refuse_csrf(request: Request, exc: Exception) -> Response:
    """403, audited as `refused.csrf`: a Chinese page on the console, JSON on the API."""
    assert isinstance(exc, CsrfRefused)
    logger.warning("%s %s refused: %s", request.method, request.url.path, exc.reason)
    await run_in_threadpool(audit_refusal, request, action="refused.csrf", detail=exc.reason)
    if request.url.path.startswith("/api/"):
        detail = (
            "the session cookie alone does not authorize a state-changing API call: send "
            f"Authorization: Bearer <token>, or the session's form token in {CSRF_HEADER} ({exc.reason})"
        )
        return JSONResponse(status_code=403, content={"detail": detail})
    return error_page(request, PageError(403, "表单校验失败", PAGE_MESSAGE), nav="cases")
