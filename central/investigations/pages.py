"""Console pages (zh-CN): investigations with their deadlines (overdue ones flagged) and the report form."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from central.access.console_session import PagePrincipal
from central.approvals.kinds import ApprovalError
from central.approvals.service import create_request
from central.cases.service import describe_validation
from central.core.clock import shanghai_date
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.investigations.extension import KIND as EXTENSION_KIND
from central.investigations.queries import InvestigationFilters, get_investigation, list_investigations
from central.investigations.schemas import InvestigationReport
from central.investigations.service import InvestigationConflict, InvestigationNotFound, report_investigation
from central.signals.lifecycle import FINDING_LABELS, SignalTransitionError
from central.signals.service import SignalForbidden
from central.web.forms import PageError, parse_positive
from central.web.templating import PageTemplates, error_page, render
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
TEMPLATES = PageTemplates(folder=Path(__file__).parent / "templates")
PAGE_SIZE = 50


@router.get("/console/investigations", response_class=HTMLResponse)
def investigations_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    calendar: CalendarDep,
    now: NowDep,
    overdue: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    try:
        number = parse_positive(page, label="页码", default=1, maximum=1_000_000)
    except PageError as error:
        return error_page(request, error, nav="investigations")
    only_overdue = overdue in ("1", "true", "on")
    result = list_investigations(
        session,
        within=principal.jurisdiction,
        filters=InvestigationFilters(overdue=only_overdue),
        today=shanghai_date(now),
        calendar=calendar,
        page=number,
        page_size=PAGE_SIZE,
    )
    context = {
        "nav": "investigations",
        "principal": principal,
        "result": result,
        "only_overdue": only_overdue,
    }
    return render(request, "investigations_list.html", context)


@router.get("/console/investigations/{investigation_id}", response_class=HTMLResponse)
def investigation_page(
    request: Request,
    investigation_id: str,
    principal: PagePrincipal,
    session: SessionDep,
    calendar: CalendarDep,
    now: NowDep,
) -> HTMLResponse:
    return _detail(request, investigation_id, principal, session, calendar, now=now, error=None)


def _detail(
    request: Request,
    investigation_id: str,
    principal: Any,
    session: Any,
    calendar: WorkCalendar,
    *,
    now: Any,
    error: str | None,
    status_code: int = 200,
) -> HTMLResponse:
    missing = PageError(404, "找不到该调查", "该调查不存在，或不在您的辖区内。")
    if not investigation_id.isdigit() or len(investigation_id) > 18:
        return error_page(request, missing, nav="investigations")
    try:
        found = get_investigation(
            session,
            investigation_id=int(investigation_id),
            within=principal.jurisdiction,
            today=shanghai_date(now),
            calendar=calendar,
        )
    except InvestigationNotFound:
        return error_page(request, missing, nav="investigations")
    context = {
        "nav": "investigations",
        "principal": principal,
        "inv": found,
        "findings": FINDING_LABELS,
        "error": error,
    }
    return render(request, "investigation_detail.html", context, status_code=status_code)


@router.post("/console/investigations/{investigation_id}/report", response_model=None)
async def report_from_form(
    request: Request,
    investigation_id: str,
    principal: PagePrincipal,
    session: SessionDep,
    calendar: CalendarDep,
    now: NowDep,
) -> Response:
    if not investigation_id.isdigit() or len(investigation_id) > 18:
        return error_page(request, PageError(404, "找不到该调查", "该调查不存在。"), nav="investigations")
    form = await request.form()
    try:
        body = InvestigationReport(
            report=str(form.get("report") or "").strip(),
            finding=str(form.get("finding") or ""),
        )
        report_investigation(
            session, investigation_id=int(investigation_id), body=body, principal=principal, now=now
        )
    except ValidationError as exc:
        message, code = describe_validation(exc), 400
    except InvestigationNotFound:
        return error_page(request, PageError(404, "找不到该调查", "该调查不存在。"), nav="investigations")
    except SignalForbidden as exc:
        message, code = f"无权报告：{exc}", 403
    except (InvestigationConflict, SignalTransitionError) as exc:
        message, code = str(exc), 409
    else:
        session.commit()
        return RedirectResponse(f"/console/investigations/{investigation_id}", status_code=303)
    session.rollback()
    return _detail(
        request, investigation_id, principal, session, calendar, now=now, error=message, status_code=code
    )


@router.post("/console/investigations/{investigation_id}/extension", response_model=None)
async def ask_extension_from_form(
    request: Request,
    investigation_id: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> Response:
    """Ask for the one extension (SC-9); it goes to the approvals inbox and changes nothing yet."""
    form = await request.form()
    days_text = str(form.get("days") or "").strip()
    reason = str(form.get("reason") or "").strip()
    if not days_text.isdigit() or not reason:
        message = "请填写延期天数（工作日）和申请理由。"
        return _detail(
            request, investigation_id, principal, session, calendar, now=now, error=message, status_code=400
        )
    try:
        created = create_request(
            session,
            requester=principal,
            kind=EXTENSION_KIND,
            target=investigation_id[:100],
            payload={"days": int(days_text[:4])},
            reason=reason[:2000],
            now=now,
            calendar=calendar,
            default_profile_key=settings.rule_profile,
        )
    except ApprovalError as exc:
        session.rollback()
        message = exc.zh or exc.detail
        return _detail(
            request,
            investigation_id,
            principal,
            session,
            calendar,
            now=now,
            error=message,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/console/approvals/{created.id}", status_code=303)
