"""Console pages (zh-CN) of complaints: the list (overdue ones flagged), a complaint with the forms
of the inspectors handling it (decide, pass down, close), and the printable written notice."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from central.access.console_session import PagePrincipal
from central.access.deps import Principal
from central.complaints.labels import CHANNEL_LABELS, STATUS_LABELS, ComplaintStatus
from central.complaints.notices import notice_letter
from central.complaints.queries import ComplaintFilters, get_complaint, list_complaints
from central.complaints.schemas import AssignIn, CloseIn, DecisionIn
from central.complaints.service import (
    ComplaintConflict,
    ComplaintForbidden,
    ComplaintInputError,
    ComplaintNotFound,
    assign_complaint,
    close_complaint,
    decide_complaint,
    handles,
    visible_complaint,
)
from central.core.clock import shanghai_date
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.investigations.service import InvestigationConflict
from central.web.forms import PageError, parse_choice, parse_positive
from central.web.paging import pager
from central.web.templating import PageTemplates, error_page, render
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
TEMPLATES = PageTemplates(folder=Path(__file__).parent / "templates")
PAGE_SIZE = 30
NAV = "complaints"
MISSING = PageError(404, "找不到该投诉", "该投诉不存在，或不在您的辖区内。")
_STATUS_CHOICES = {status: STATUS_LABELS[status] for status in ComplaintStatus}


@router.get("/console/complaints", response_class=HTMLResponse)
def complaints_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    calendar: CalendarDep,
    now: NowDep,
    status: str | None = None,
    overdue: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    try:
        number = parse_positive(page, label="页码", default=1, maximum=1_000_000)
        chosen = parse_choice(status, kind=ComplaintStatus, labels=_STATUS_CHOICES, label="状态")
    except PageError as error:
        return error_page(request, error, nav=NAV)
    only_overdue = overdue in ("1", "true", "on")
    result = list_complaints(
        session,
        principal=principal,
        filters=ComplaintFilters(status=chosen, overdue=only_overdue),
        today=shanghai_date(now),
        calendar=calendar,
        page=number,
        page_size=PAGE_SIZE,
    )
    query = {
        k: v
        for k, v in (("status", chosen.value if chosen else ""), ("overdue", "1" if only_overdue else ""))
        if v
    }
    context = {
        "nav": NAV,
        "principal": principal,
        "result": result,
        "status": chosen.value if chosen else "",
        "status_labels": STATUS_LABELS,
        "only_overdue": only_overdue,
        **pager("/console/complaints", query, page=number, total=result.total, page_size=PAGE_SIZE),
    }
    return render(request, "complaints_list.html", context)


def _id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 18 else None


def _detail(
    request: Request,
    complaint_id: str,
    principal: Principal,
    session: Session,
    calendar: WorkCalendar,
    *,
    now: datetime,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found_id = _id(complaint_id)
    if found_id is None:
        return error_page(request, MISSING, nav=NAV)
    try:
        found = get_complaint(
            session, complaint_id=found_id, principal=principal, today=shanghai_date(now), calendar=calendar
        )
    except ComplaintNotFound:
        return error_page(request, MISSING, nav=NAV)
    context = {
        "nav": NAV,
        "principal": principal,
        "c": found,
        "channel_labels": CHANNEL_LABELS,
        "error": error,
    }
    return render(request, "complaint_detail.html", context, status_code=status_code)


@router.get("/console/complaints/{complaint_id}", response_class=HTMLResponse)
def complaint_page(
    request: Request,
    complaint_id: str,
    principal: PagePrincipal,
    session: SessionDep,
    calendar: CalendarDep,
    now: NowDep,
) -> HTMLResponse:
    return _detail(request, complaint_id, principal, session, calendar, now=now)


@router.get("/console/complaints/{complaint_id}/notice", response_class=HTMLResponse)
def notice_page(
    request: Request, complaint_id: str, principal: PagePrincipal, session: SessionDep
) -> HTMLResponse:
    """The written notice, with the complainant's full name: for the inspectors handling it."""
    found_id = _id(complaint_id)
    try:
        if found_id is None:
            raise ComplaintNotFound(complaint_id)
        complaint = visible_complaint(session, complaint_id=found_id, within=principal.jurisdiction)
    except ComplaintNotFound:
        return error_page(request, MISSING, nav=NAV)
    if not handles(principal, complaint):
        denied = PageError(403, "无权查看", "书面告知书载有投诉人姓名，只有处理该投诉的电子监察员可以查看。")
        return error_page(request, denied, nav=NAV)
    letter = notice_letter(complaint, full_name=True)
    if letter is None:
        none = PageError(404, "没有书面告知书", "匿名投诉无需书面告知；尚未作出受理决定的投诉还没有告知书。")
        return error_page(request, none, nav=NAV)
    context = {"nav": NAV, "principal": principal, "letter": letter, "complaint_id": complaint.id}
    return render(request, "complaint_notice.html", context)


async def _act(
    request: Request,
    complaint_id: str,
    principal: Principal,
    session: Session,
    calendar: WorkCalendar,
    *,
    now: datetime,
    default_profile: str,
    step: str,
) -> Response:
    found_id = _id(complaint_id)
    if found_id is None:
        return error_page(request, MISSING, nav=NAV)
    form = await request.form()

    def text(name: str) -> str | None:
        value = str(form.get(name) or "").strip()
        return value or None

    try:
        if step == "decision":
            decision = text("decision")
            if decision not in ("accept", "refuse"):
                raise ComplaintInputError("请选择受理或不予受理。")
            body = DecisionIn(accept=decision == "accept", reasons=text("reasons"))
            decide_complaint(session, complaint_id=found_id, body=body, principal=principal, now=now)
        elif step == "assign":
            assign = AssignIn(assignee_scope=text("assignee_scope") or "", subject=text("subject"))
            assign_complaint(
                session,
                complaint_id=found_id,
                body=assign,
                principal=principal,
                now=now,
                calendar=calendar,
                default_profile=default_profile,
            )
        else:
            upheld = text("upheld")
            if upheld not in ("true", "false"):
                raise ComplaintInputError("请选择投诉是否属实。")
            close = CloseIn(
                findings=text("findings") or "", reply=text("reply") or "", upheld=upheld == "true"
            )
            close_complaint(session, complaint_id=found_id, body=close, principal=principal, now=now)
    except ValidationError as exc:
        message, code = describe_step(exc), 400
    except ComplaintNotFound:
        return error_page(request, MISSING, nav=NAV)
    except ComplaintForbidden:
        message, code = "只有对该服务中心有监察权限的电子监察员可以处理投诉。", 403
    except ComplaintInputError as exc:
        message, code = str(exc), 400
    except (ComplaintConflict, InvestigationConflict) as exc:
        message, code = f"无法执行：{exc}", 409
    else:
        session.commit()
        return RedirectResponse(f"/console/complaints/{found_id}", status_code=303)
    session.rollback()
    return _detail(
        request, complaint_id, principal, session, calendar, now=now, error=message, status_code=code
    )


def describe_step(exc: ValidationError) -> str:
    labels = {
        "reasons": "理由",
        "assignee_scope": "承办单位",
        "subject": "调查事项",
        "findings": "调查处理情况",
        "reply": "答复",
    }
    problems = []
    for error in exc.errors()[:5]:
        name = str(error["loc"][0]) if error["loc"] else ""
        label = labels.get(name, name)
        ctx = error.get("ctx") or {}
        if error["type"] == "value_error":
            problems.append(str(ctx.get("error", error["msg"])))
        elif error["type"] == "string_too_short":
            problems.append(f"请填写{label}（至少 {ctx.get('min_length')} 个字）")
        elif error["type"] == "string_too_long":
            problems.append(f"{label}最多 {ctx.get('max_length')} 个字")
        else:
            problems.append(f"{label}无效")
    return "；".join(problems) + "。"


@router.post("/console/complaints/{complaint_id}/{step}", response_model=None)
async def act_from_form(
    request: Request,
    complaint_id: str,
    step: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> Response:
    """The handling forms: decision (受理 / 不予受理), assign (交办调查), close (办结答复)."""
    if step not in ("decision", "assign", "close"):
        return error_page(request, PageError(404, "找不到页面", "没有这个操作。"), nav=NAV)
    return await _act(
        request,
        complaint_id,
        principal,
        session,
        calendar,
        now=now,
        default_profile=settings.rule_profile,
        step=step,
    )
