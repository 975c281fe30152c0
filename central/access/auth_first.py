"""Authenticate before the body is read: an unauthenticated POST/PUT/PATCH/DELETE gets its 401 (or,
on a console page, the redirect to sign-in) without central buffering, decoding or validating what
it sent — so a big or malformed body from nobody costs nothing and says nothing (no 413, no 422).

FastAPI reads and parses the body before it solves a route's dependencies, so this is a pure ASGI
middleware in front of it (and in front of the body limit). Which credential a route needs is read
from the route itself — the authentication dependency in its dependency tree (`get_principal`,
`page_principal`, and the device key's, whose rule the app factory passes in from central/devices so
that access imports nothing of devices) — so a new route is covered without a list to keep. The
dependency still runs afterwards and decides everything else (role, jurisdiction, CSRF): this only
answers "is there a valid credential of the kind this route takes".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from sqlalchemy.orm import Session
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from central.access.console_session import page_principal
from central.access.credentials import CREDENTIAL_STATE, Credential
from central.access.deps import SESSION_COOKIE, get_principal
from central.access.refusals import PRINCIPAL_STATE, audit_refusal
from central.access.service import user_for_token
from central.core.actor import Actor
from central.core.db_errors import UNAVAILABLE_ERRORS, is_unavailable, unavailable_response

logger = logging.getLogger(__name__)

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
USER, PAGE, DEVICE, PUBLIC = Credential.USER, Credential.PAGE, Credential.DEVICE, Credential.PUBLIC
# Who is behind the request's credential (None: no valid one), looked up in the given session.
Authenticate = Callable[[Request, Session], Actor | None]


@dataclass(frozen=True)
class CredentialRule:
    """A route with `dependency` in its dependency tree takes a `kind` credential, which
    `authenticate` checks before the body is read."""

    dependency: Callable[..., Any]
    kind: Credential
    authenticate: Authenticate


def _signed_in(request: Request, session: Session, *, bearer_too: bool) -> Actor | None:
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if bearer_too and header.lower().startswith("bearer ") else ""
    raw = bearer or request.cookies.get(SESSION_COOKIE, "")
    user = user_for_token(session, raw=raw, now=request.app.state.clock()) if raw else None
    remote = request.client.host if request.client else None
    return Actor(kind="user", name=user.username, remote_addr=remote) if user else None


def _api_user(request: Request, session: Session) -> Actor | None:
    return _signed_in(request, session, bearer_too=True)


def _page_user(request: Request, session: Session) -> Actor | None:
    return _signed_in(request, session, bearer_too=False)


USER_CREDENTIALS = (
    CredentialRule(get_principal, USER, _api_user),
    CredentialRule(page_principal, PAGE, _page_user),
)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def api_routes(app: FastAPI) -> Iterator[RouteContext]:
    """Every API route of the app as served: prefix and router-level dependencies included."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def credential_rule(route: RouteContext, rules: Sequence[CredentialRule]) -> CredentialRule | None:
    """The rule of the credential a route authenticates with (None for a public route such as sign-in)."""
    by_dependency = {rule.dependency: rule for rule in rules}
    dependant: Dependant = route.dependant
    return next((by_dependency[c] for c in _calls(dependant) if c in by_dependency), None)


def credential_kind(route: RouteContext, rules: Sequence[CredentialRule]) -> Credential | None:
    rule = credential_rule(route, rules)
    return rule.kind if rule else None


def _route_for(app: FastAPI, scope: Scope) -> RouteContext | None:
    return next((r for r in api_routes(app) if r.matches(scope)[0] is Match.FULL), None)


def _authenticated(request: Request, rule: CredentialRule) -> Actor | None:
    with request.app.state.session_factory() as session:
        return rule.authenticate(request, session)


class AuthenticateFirstMiddleware:
    """401 / redirect to sign-in for a body-carrying request without a valid credential of the kind
    its route takes; otherwise notes the credential kind and who it is on the request, and goes on."""

    def __init__(self, app: ASGIApp, *, rules: Sequence[CredentialRule]) -> None:
        self.app = app
        self.rules = tuple(rules)
        self._rules: dict[str, CredentialRule | None] = {}  # "METHOD path format" -> its rule

    def _rule(self, app: FastAPI, scope: Scope) -> CredentialRule | None:
        route = _route_for(app, scope)
        if route is None:
            return None  # 404 / 405 / static: nothing reads a body there
        key = f"{scope['method']} {route.path_format}"
        if key not in self._rules:
            self._rules[key] = credential_rule(route, self.rules)
        return self._rules[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        app: FastAPI = scope["app"]
        rule = self._rule(app, scope)
        request = Request(scope)
        setattr(request.state, CREDENTIAL_STATE, rule.kind if rule else PUBLIC)  # csrf_guard skips public
        if rule is None:
            await self.app(scope, receive, send)
            return
        try:
            actor = await run_in_threadpool(_authenticated, request, rule)
        except UNAVAILABLE_ERRORS as exc:  # in front of the app's handlers: answer as they would
            if not is_unavailable(exc):
                raise
            await unavailable_response(exc)(scope, receive, send)
            return
        if actor is None:
            await self._refuse(request, rule.kind, send)
            return
        setattr(request.state, PRINCIPAL_STATE, actor)  # a CSRF refusal names who was signed in
        await self.app(scope, receive, send)

    async def _refuse(self, request: Request, kind: Credential, send: Send) -> None:
        if kind == PAGE:
            query = request.url.query
            target = quote(request.url.path + (f"?{query}" if query else ""), safe="")
            await _send(send, 303, b"", [(b"location", f"/console/login?next={target}".encode())])
            return
        await run_in_threadpool(
            audit_refusal, request, action="refused.unauthenticated", detail="no valid credential"
        )
        if kind == DEVICE:
            detail = "a valid, unrevoked device key is needed in X-Device-Key"
            challenge: list[tuple[bytes, bytes]] = []
        else:
            detail = "sign in first: send Authorization: Bearer <token> (POST /api/v1/auth/token)"
            challenge = [(b"www-authenticate", b"Bearer")]
        body = json.dumps({"detail": detail}).encode()
        await _send(send, 401, body, [(b"content-type", b"application/json"), *challenge])


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
