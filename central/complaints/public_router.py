"""The public complaint API (no sign-in, under /api/v1/public like the rest of what citizens and
hall screens reach): the form's question and choices, sending a complaint (from anywhere, or from a
hall's kiosk through its display agent), its status by number and password. Limited per address like
the rest of the public API (`central.public.router`), plus the complaint's own count and question
(`central.complaints.guard`)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from central.complaints.guard import challenge_secret, new_challenge
from central.complaints.intake import (
    ATTACHMENTS,
    SubmissionError,
    challenge_ttl,
    kiosk_sender,
    online_sender,
    submit,
)
from central.complaints.lookup import lookup_complaint
from central.complaints.queries import hall_choices, public_status
from central.complaints.schemas import (
    ChallengeOut,
    ComplaintChoices,
    ComplaintIn,
    ComplaintReceipt,
    ComplaintStatusPublic,
    StatusQuery,
)
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.public.lookup import LookupRefused
from central.public.router import LimitedClient
from central.public.snapshot import hall_by_code
from central.registry.document import CODE_PATTERN

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/public/complaints", tags=["complaints", "public"])
NOT_FOUND = "投诉编号或查询密码不正确"  # unknown number and wrong password alike


def _form_schema() -> dict[str, Any]:
    """The multipart body, documented: ComplaintIn's fields and the attachments."""
    schema = ComplaintIn.model_json_schema()
    schema["properties"][ATTACHMENTS] = {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
        "description": "JPEG or PNG images and PDF documents, checked by their bytes.",
    }
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


def refusal_answer(exc: SubmissionError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)


@router.get("/challenge", response_model=ChallengeOut)
def challenge(settings: SettingsDep, now: NowDep, _client: LimitedClient) -> ChallengeOut:
    """A question to answer with the complaint (no third-party service): send back `token` as
    `challenge` and the number as `answer`. Each token takes one try."""
    found = new_challenge(secret=challenge_secret(settings), now=now, ttl=challenge_ttl(settings))
    return ChallengeOut(question=found.question, token=found.token, expires_at=found.expires_at)


@router.get("/choices", response_model=ComplaintChoices, responses={404: {"description": "no such hall"}})
def choices(
    hall: Annotated[
        str, Query(min_length=1, max_length=40, pattern=CODE_PATTERN, description="The hall's code.")
    ],
    session: SessionDep,
    _client: LimitedClient,
) -> ComplaintChoices:
    """The hall's windows and departments by code and name, for the form's choices (what its
    `window` and `department` take)."""
    found = hall_by_code(session, hall)
    if found is None:
        raise HTTPException(404, f"no hall with code {hall!r}")
    return hall_choices(session, hall=found)


@router.post(
    "",
    status_code=201,
    response_model=ComplaintReceipt,
    openapi_extra=_form_schema(),
    responses={
        400: {"description": "wrong answer, unreadable form"},
        403: {"description": "a device key that is not a display's, or a kiosk sending for another hall"},
        413: {"description": "an attachment too large"},
        415: {"description": "an attachment that is not what it says, or not an image or PDF"},
        429: {"description": "too many complaints from this address (or this kiosk)"},
    },
)
async def send(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    client: LimitedClient,
) -> ComplaintReceipt | JSONResponse:
    """A complaint (SZ-14), named or anonymous, as multipart/form-data. The answer holds the
    complaint number and the query password (shown once: keep them). Sent by a hall's kiosk (a
    display device's key in X-Device-Key) it is the kiosk's: about that hall only, no attachments,
    counted per kiosk (`complaint_kiosk_submissions_per_hour`) rather than per address."""
    device = client.device
    if device is not None and device.kind != "display":
        return JSONResponse({"detail": "只有大厅触摸屏可以凭设备密钥提交投诉。"}, status_code=403)
    sender = (
        online_sender(settings, address=client.name)
        if device is None
        else kiosk_sender(
            settings, device_code=device.device_code, hall_code=device.hall_code, address=client.address
        )
    )
    try:
        receipt = await submit(request, session, settings=settings, calendar=calendar, now=now, sender=sender)
    except SubmissionError as exc:
        return refusal_answer(exc)
    complaint = receipt.complaint
    return ComplaintReceipt(
        number=complaint.number,
        password=receipt.password,
        received_at=complaint.received_at,
        decide_by=complaint.decide_by,
    )


@router.post(
    "/status",
    response_model=ComplaintStatusPublic,
    responses={404: {"description": NOT_FOUND}, 429: {"description": "too many tries"}},
)
def status(
    body: StatusQuery, session: SessionDep, now: NowDep, client: LimitedClient
) -> ComplaintStatusPublic | JSONResponse:
    """Where a complaint stands: the decision (with the reasons for refusing), later the outcome and
    the reply. A wrong password and an unknown number get the same 404."""
    try:
        found = lookup_complaint(
            session, number=body.number, password=body.password, source=client.name, now=now
        )
    except LookupRefused as exc:
        minutes = max(1, (exc.retry_after + 59) // 60)
        return JSONResponse(
            {"detail": f"尝试次数过多，请 {minutes} 分钟后再试"},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if found is None:
        return JSONResponse({"detail": NOT_FOUND}, status_code=404)
    return public_status(found)
