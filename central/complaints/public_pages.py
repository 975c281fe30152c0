"""The public complaint pages (no sign-in, zh-CN, usable on a phone): the form, the receipt with the
number and password, and the status page (with the written notice of a named complainant, the name
masked). Limited per address like the public API."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.complaints.guard import challenge_secret, new_challenge
from central.complaints.intake import SubmissionError, challenge_ttl, limits_of, online_sender, submit
from central.complaints.labels import ABOUT_LABELS
from central.complaints.lookup import lookup_complaint
from central.complaints.notices import notice_letter
from central.complaints.public_router import NOT_FOUND
from central.complaints.queries import hall_choices, public_status
from central.complaints.schemas import NUMBER_PATTERN
from central.core.config import Settings
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.profiles.assignment import profile_for_hall
from central.public.lookup import LookupRefused
from central.public.router import PublicClient, limited
from central.public.snapshot import hall_by_code
from central.registry.models import Hall
from central.web.templating import render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
FORM_FIELDS = (
    "hall",
    "about",
    "case_no",
    "window",
    "staff",
    "department",
    "content",
    "anonymous",
    "name",
    "phone",
)


def _client(request: Request, session: Session, now: Any) -> PublicClient | HTMLResponse:
    """The per-address limit of the public API, answered as a page."""
    try:
        return limited(request, session, now)
    except HTTPException as exc:
        if exc.status_code != 429:
            raise
        message = "访问过于频繁，请稍后再试。"
        return render(
            request,
            "complaint_status.html",
            {"nav": "", "error": message},
            status_code=429,
            headers=exc.headers,
        )


def _form(
    request: Request,
    session: Session,
    settings: Settings,
    *,
    now: Any,
    hall_code: str | None,
    values: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    hall = hall_by_code(session, hall_code[:40]) if hall_code else None
    halls = [] if hall else session.scalars(select(Hall).order_by(Hall.code)).all()
    choices = hall_choices(session, hall=hall) if hall is not None else None
    windows = choices.windows if choices else []
    departments = choices.departments if choices else []
    context = {
        "nav": "new",
        "hall": hall,
        "halls": halls,
        "windows": windows,
        "departments": departments,
        "about_labels": ABOUT_LABELS,
        "values": values,
        "limits": limits_of(settings),
        "challenge": new_challenge(secret=challenge_secret(settings), now=now, ttl=challenge_ttl(settings)),
        "error": error,
    }
    return render(request, "complaint_new.html", context, status_code=status_code)


@router.get("/complaints/new", response_class=HTMLResponse)
def new_page(
    request: Request, session: SessionDep, settings: SettingsDep, now: NowDep, hall: str | None = None
) -> HTMLResponse:
    client = _client(request, session, now)
    if isinstance(client, HTMLResponse):
        return client
    return _form(request, session, settings, now=now, hall_code=hall, values={"hall": hall or ""})


@router.post("/complaints/new", response_class=HTMLResponse)
async def send_from_form(
    request: Request, session: SessionDep, settings: SettingsDep, calendar: CalendarDep, now: NowDep
) -> HTMLResponse:
    client = _client(request, session, now)
    if isinstance(client, HTMLResponse):
        return client
    try:
        receipt = await submit(
            request,
            session,
            settings=settings,
            calendar=calendar,
            now=now,
            sender=online_sender(settings, address=client.name),
        )
    except SubmissionError as exc:
        values = await _values(request)
        page = _form(
            request,
            session,
            settings,
            now=now,
            hall_code=values.get("hall"),
            values=values,
            error=exc.message,
            status_code=exc.status,
        )
        if exc.retry_after:
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    complaint = receipt.complaint
    profile = profile_for_hall(session, hall_id=complaint.hall_id, default_key=settings.rule_profile)
    workdays = profile.complaints.decide_within_workdays
    context = {
        "nav": "new",
        "hall": None,
        "complaint": complaint,
        "password": receipt.password,
        "workdays": workdays,
    }
    return render(request, "complaint_receipt.html", context, headers={"Cache-Control": "no-store"})


async def _values(request: Request) -> dict[str, str]:
    """What was typed, to fill the form again (the form was read already: this is its cached copy)."""
    try:
        form = await request.form()
    except HTTPException:
        return {}
    return {name: value[:5000] for name in FORM_FIELDS if isinstance(value := form.get(name), str)}


@router.get("/complaints/status", response_class=HTMLResponse)
def status_page(request: Request) -> HTMLResponse:
    return render(request, "complaint_status.html", {"nav": "status", "hall": None})


@router.post("/complaints/status", response_class=HTMLResponse)
async def status_from_form(request: Request, session: SessionDep, now: NowDep) -> HTMLResponse:
    client = _client(request, session, now)
    if isinstance(client, HTMLResponse):
        return client
    form = await request.form()
    number = str(form.get("number") or "").strip().upper()[:16]
    password = str(form.get("password") or "").strip()[:6]
    context: dict[str, Any] = {"nav": "status", "hall": None, "number": number}
    if not re.fullmatch(NUMBER_PATTERN, number) or not (
        password.isascii() and password.isdigit() and len(password) == 6
    ):
        context["error"] = "请填写 16 位投诉编号（TS 开头）和 6 位数字查询密码。"
        return render(request, "complaint_status.html", context, status_code=400)
    try:
        found = lookup_complaint(session, number=number, password=password, source=client.name, now=now)
    except LookupRefused as exc:
        context["error"] = f"尝试次数过多，请 {max(1, (exc.retry_after + 59) // 60)} 分钟后再试。"
        return render(
            request,
            "complaint_status.html",
            context,
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if found is None:
        context["error"] = NOT_FOUND + "。"
        return render(request, "complaint_status.html", context, status_code=404)
    context.update(found=public_status(found), letter=notice_letter(found, full_name=False))
    return render(request, "complaint_status.html", context, headers={"Cache-Control": "no-store"})
