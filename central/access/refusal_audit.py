"""Every refusal a response carries is audited, whichever code produced it: an API exception, a
console page's own 403/404, a dependency. Code that knows more (which case, which hall) audits it
itself first through `audit_refusal`; this catches the rest, so a new route is covered untouched.

401 and 403 are always refusals. A 404 is one when a known user or device asked for an object by
name on a matched route (another jurisdiction's object answers 404 exactly like a missing one, so
both are recorded the same way: the probe is the evidence). A path no route matches is not.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central.access.refusals import AUDITED_STATE, PRINCIPAL_STATE, audit_refusal

logger = logging.getLogger(__name__)

REFUSAL_ACTIONS = {401: "refused.unauthenticated", 403: "refused.forbidden", 404: "refused.not_found"}


class RefusalAuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status in REFUSAL_ACTIONS and is_refusal(scope, status):
            request = Request(scope)
            await run_in_threadpool(
                audit_refusal, request, action=REFUSAL_ACTIONS[status], detail={"status": status}
            )


def is_refusal(scope: Scope, status: int) -> bool:
    state = scope.get("state") or {}
    if state.get(AUDITED_STATE):
        return False
    if status != 404:
        return True
    return state.get(PRINCIPAL_STATE) is not None and scope.get("endpoint") is not None
