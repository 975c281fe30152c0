"""Complaints from the hall's kiosk (issue 18 item 1): the kiosk page talks to this agent only, and the
agent forwards to central with its own device key, so central knows the complaint came from this
hall's kiosk (its channel, its hall) and counts it per kiosk rather than per address.

- `GET /api/v1/public/complaints/challenge`: a fresh question from central, passed through;
- `GET /api/v1/public/complaints/choices`: this hall's windows and departments (whatever hall the
  page names: a kiosk complains about its own hall only);
- `POST /api/v1/public/complaints`: the page's JSON (`KioskComplaint`), sent on to central as the
  multipart form its public API takes, with this display's hall and no attachments; central's
  answer (zh-CN `detail` on refusal, Retry-After) passed back.

Central away: 503 with a zh-CN message; the page keeps what was typed. Only a kiosk with
`kiosk.complaints` on serves these (404 otherwise).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hall_display.config import DisplaySettings

logger = logging.getLogger(__name__)

COMPLAINTS_PATH = "/api/v1/public/complaints"
COMPLAINT_TIMEOUT_SECONDS = 15.0
MAX_COMPLAINT_BYTES = 64 * 1024  # 5,000 characters of text are 15 KB in UTF-8
NO_STORE = {"Cache-Control": "no-store"}
UNREACHABLE = "暂时无法连接中心，请稍后再试"
NOT_OFFERED = "本显示屏不提供投诉"
BAD_FORM = "投诉内容格式不正确，请返回首页重新填写"
_PASSED_HEADERS = ("content-type", "retry-after")


class KioskComplaint(BaseModel):
    """What the kiosk page sends: central's complaint fields less the hall (this display's) and the
    attachments (none from a kiosk). Only the shape is checked here; central checks the rest and
    says what is wrong in zh-CN."""

    model_config = ConfigDict(extra="forbid")

    about: Literal["case", "window", "staff", "department", "hall"]
    case_no: str | None = Field(None, max_length=64)
    window: str | None = Field(None, max_length=40)
    staff: str | None = Field(None, max_length=40)
    department: str | None = Field(None, max_length=40)
    content: str = Field(max_length=5000)
    anonymous: bool
    name: str | None = Field(None, max_length=60)
    phone: str | None = Field(None, max_length=20)
    challenge: str = Field(max_length=200)
    answer: str = Field(max_length=10)

    def form_parts(self, hall: str) -> list[tuple[str, tuple[None, bytes]]]:
        """Multipart fields (no file name: plain fields), the way a browser sends the public form."""
        fields = {"hall": hall, **self.model_dump(exclude_none=True)}
        fields["anonymous"] = "true" if self.anonymous else "false"
        return [(name, (None, str(value).encode())) for name, value in fields.items()]


def complaint_routes(settings: DisplaySettings, client: httpx.AsyncClient) -> list[Route]:
    offered = settings.display.kind == "kiosk" and settings.display.kiosk.complaints

    def only_if_offered(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            return await handler(request) if offered else _detail(404, NOT_OFFERED)

        return guarded

    async def challenge(_: Request) -> Response:
        return await _forward(client, "GET", f"{COMPLAINTS_PATH}/challenge", what="question")

    async def choices(_: Request) -> Response:
        params = {"hall": settings.hall}
        return await _forward(client, "GET", f"{COMPLAINTS_PATH}/choices", what="choices", params=params)

    async def send(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_COMPLAINT_BYTES:
            return _detail(413, "投诉内容过长")
        try:
            complaint = KioskComplaint.model_validate(json.loads(body))
        except (ValueError, ValidationError):  # not JSON, or not the kiosk's shape
            return _detail(422, BAD_FORM)
        return await _forward(
            client, "POST", COMPLAINTS_PATH, what="complaint", files=complaint.form_parts(settings.hall)
        )

    return [
        Route(f"{COMPLAINTS_PATH}/challenge", only_if_offered(challenge)),
        Route(f"{COMPLAINTS_PATH}/choices", only_if_offered(choices)),
        Route(COMPLAINTS_PATH, only_if_offered(send), methods=["POST"]),
    ]


async def _forward(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    what: str,
    params: dict[str, str] | None = None,
    files: list[tuple[str, tuple[None, bytes]]] | None = None,
) -> Response:
    try:
        answer = await client.request(
            method, path, params=params, files=files, timeout=COMPLAINT_TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        logger.warning("kiosk complaint %s: cannot reach central (%s)", what, type(exc).__name__)
        return _detail(503, UNREACHABLE)
    if answer.status_code >= 500:
        logger.warning("kiosk complaint %s: central answered %s", what, answer.status_code)
    passed = {k: v for k, v in answer.headers.items() if k.lower() in _PASSED_HEADERS}
    return Response(answer.content, status_code=answer.status_code, headers={**passed, **NO_STORE})


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=NO_STORE)
