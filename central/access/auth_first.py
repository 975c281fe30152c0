"""Authenticate before the body is read: an unauthenticated POST/PUT/PATCH/DELETE gets its 401 (or,
on a console page, the redirect to sign-in) without central buffering, decoding or validating what
it sent — so a big or malformed body from nobody costs nothing and says nothing (no 413, no 422).

FastAPI reads and parses the body before it solves a route's dependencies, so this is a pure ASGI
middleware in front of it (and in front of the body limit). Which credential a route needs is read
from the route itself — the authentication dependency in its dependency tree (`get_principal`,
`page_principal`, `get_device`) — so a new route is covered without a list to keep. The dependency
still runs afterwards and decides everything else (role, jurisdiction, CSRF): this only answers
"is there a valid credential of the kind this route takes".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from central.access.credentials import CREDENTIAL_STATE, Credential
from central.access.deps import SESSION_COOKIE, get_principal
from central.access.refusals import PRINCIPAL_STATE, audit_refusal
from central.access.service import user_for_token
from central.core.actor import Actor
from central.devices.keys import authenticate_device
from central.devices.keys_router import get_device
from central.web.session import page_principal

logger = logging.getLogger(__name__)

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
USER, PAGE, DEVICE, PUBLIC = Credential.USER, Credential.PAGE, Credential.DEVICE, Credential.PUBLIC
AUTH_DEPENDENCIES: dict[Callable[..., Any], Credential] = {
    get_principal: USER,
    page_principal: PAGE,
    get_device: DEVICE,
}


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


def credential_kind(route: RouteContext) -> Credential | None:
    """The credential a route authenticates with (None for a public route such as sign-in)."""
    dependant: Dependant = route.dependant
    return next((AUTH_DEPENDENCIES[c] for c in _calls(dependant) if c in AUTH_DEPENDENCIES), None)


def _route_for(app: FastAPI, scope: Scope) -> RouteContext | None:
    return next((r for r in api_routes(app) if r.matches(scope)[0] is Match.FULL), None)


def _authenticated(request: Request, kind: Credential) -> Actor | None:
    """The user or device behind the request's credential of `kind`, or None."""
    state = request.app.state
    now = state.clock()
    remote = request.client.host if request.client else None
    with state.session_factory() as session:
        if kind == DEVICE:
            device = authenticate_device(session, presented=request.headers.get("x-device-key", ""), now=now)
            return device.actor if device else None
        header = request.headers.get("authorization", "")
        bearer = header[7:].strip() if kind == USER and header.lower().startswith("bearer ") else ""
        raw = bearer or request.cookies.get(SESSION_COOKIE, "")
        user = user_for_token(session, raw=raw, now=now) if raw else None
        return Actor(kind="user", name=user.username, remote_addr=remote) if user else None


class AuthenticateFirstMiddleware:
    """401 / redirect to sign-in for a body-carrying request without a valid credential of the kind
    its route takes; otherwise notes the credential kind and who it is on the request, and goes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._kinds: dict[str, Credential | None] = {}  # "METHOD path format" -> credential

    def _kind(self, app: FastAPI, scope: Scope) -> Credential | None:
        route = _route_for(app, scope)
        if route is None:
            return None  # 404 / 405 / static: nothing reads a body there
        key = f"{scope['method']} {route.path_format}"
        if key not in self._kinds:
            self._kinds[key] = credential_kind(route)
        return self._kinds[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        app: FastAPI = scope["app"]
        kind = self._kind(app, scope)
        request = Request(scope)
        setattr(request.state, CREDENTIAL_STATE, kind or PUBLIC)  # csrf_guard skips public routes
        if kind is None:
            await self.app(scope, receive, send)
            return
        actor = await run_in_threadpool(_authenticated, request, kind)
        if actor is None:
            await self._refuse(request, kind, send)
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
