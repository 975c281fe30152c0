"""Console pages (zh-CN) for approvals (SC-18): the inbox, one request with its decision forms, and
the request form for voiding or correcting a case event (reached from the case timeline).

Form fields arrive as plain strings and are checked here, so bad input gets a Chinese page, never
the API's JSON 422 or a 500.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.console_session import PagePrincipal
from central.access.deps import Principal
from central.approvals.case_kinds import CORRECT, VOID, find_event, void_of
from central.approvals.kinds import (
    LEVEL_LABELS,
    STATUS_LABELS,
    ApprovalError,
    ApprovalStatus,
    Level,
    registered_kinds,
)
from central.approvals.queries import get_request, list_requests
from central.approvals.schemas import ApprovalOut
from central.approvals.service import approve, create_request, reject, withdraw
from central.cases.labels import EVENT_LABELS
from central.cases.models import Case, CaseEvent
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.registry.models import Hall, Item, ServiceWindow, Staff
from central.web.forms import (
    PageError,
    bad_parameter,
    parse_moment,
    parse_positive,
    parse_text,
    shanghai_input_value,
)
from central.web.templating import PageTemplates, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
TEMPLATES = PageTemplates(folder=Path(__file__).parent / "templates")

MAX_ID = 2_147_483_647
TEXT = Annotated[str | None, Form()]
ERROR_TITLES = {403: "无权操作", 404: "未找到", 409: "无法执行", 422: "申请内容有误"}
CASE_KINDS = (VOID, CORRECT)


def _page_error(request: Request, error: PageError) -> HTMLResponse:
    return error_page(request, error, nav="approvals")


def _from_approval_error(exc: ApprovalError) -> PageError:
    return PageError(exc.status_code, ERROR_TITLES.get(exc.status_code, "请求有误"), exc.zh or exc.detail)


def _labels() -> dict[str, Any]:
    return {
        "level_labels": {level.value: text for level, text in LEVEL_LABELS.items()},
        "status_labels": {status.value: text for status, text in STATUS_LABELS.items()},
    }


@router.get("/console/approvals", response_class=HTMLResponse)
def approvals_page(request: Request, principal: PagePrincipal, session: SessionDep) -> HTMLResponse:
    """审批: the pending requests I may decide, and my own requests with their status."""
    context = {
        "nav": "approvals",
        "principal": principal,
        "inbox": list_requests(session, principal=principal, inbox=True),
        "mine": list_requests(session, principal=principal, mine=True),
        **_labels(),
    }
    return render(request, "approvals.html", context)


def _parse_id(value: str) -> int:
    return parse_positive(value, label="申请编号", default=0, maximum=MAX_ID)


def _case_no(session: Session, approval: ApprovalOut) -> str | None:
    if approval.kind not in CASE_KINDS:
        return None
    query = select(Case.case_no).join(CaseEvent, CaseEvent.case_id == Case.id)
    return session.scalar(query.where(CaseEvent.event_id == approval.target_id))


@router.get("/console/approvals/new", response_class=HTMLResponse)
def new_request_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    kind: str | None = None,
    event_id: str | None = None,
) -> HTMLResponse:
    """The request form for voiding or correcting one case event."""
    try:
        form = _event_form(session, principal, kind, event_id)
    except PageError as error:
        return _page_error(request, error)
    return _render_new(request, principal, form)


def _event_form(
    session: Session, principal: Principal, kind: str | None, event_id: str | None
) -> dict[str, Any]:
    kind = (kind or VOID).strip()
    if kind not in CASE_KINDS:
        raise bad_parameter(f"这里只能申请作废或更正办件事件，不能申请“{kind[:40]}”。")
    target = parse_text(event_id, label="事件编号", max_length=100)
    if not target:
        raise bad_parameter("请从办件详情页的办理过程中选择要更正或作废的事件。")
    try:
        event, case = find_event(session, event_id=target, within=principal.jurisdiction)
    except ApprovalError as exc:
        raise _from_approval_error(exc) from None
    voided_by = void_of(session, event)
    if voided_by is not None:
        raise PageError(409, "无法申请", f"事件“{target}”已由审批 #{voided_by} 作废。")
    return {"kind": kind, "event": event, "case": case, "values": _event_values(session, event)}


def _event_values(session: Session, event: CaseEvent) -> dict[str, str]:
    """The original event as the correction form's starting values."""
    window = session.get(ServiceWindow, event.window_id) if event.window_id else None
    staff = session.get(Staff, event.staff_id) if event.staff_id else None
    return {
        "event_id": f"{event.event_id}-corr"[:100],
        "type": event.type,
        "at": shanghai_input_value(event.at),
        "window_code": window.code if window else "",
        "staff_code": staff.code if staff else "",
        "applicant_name": event.applicant_name or "",
        "days": str(event.days) if event.days else "",
        "reason": event.reason or "",
    }


def _render_new(
    request: Request,
    principal: Principal,
    form: dict[str, Any],
    *,
    reason: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "nav": "approvals",
        "principal": principal,
        **form,
        "kinds": registered_kinds(),
        "event_types": EVENT_LABELS,
        "reason": reason,
        "error": error,
        "level_label": LEVEL_LABELS[Level.PROVINCE],
    }
    return render(request, "approval_new.html", context, status_code=status_code)


@router.post("/console/approvals/new", response_model=None)
def new_request_submit(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    kind: TEXT = None,
    event_id: TEXT = None,
    reason: TEXT = None,
    new_event_id: TEXT = None,
    new_type: TEXT = None,
    new_at: TEXT = None,
    new_window_code: TEXT = None,
    new_staff_code: TEXT = None,
    new_applicant_name: TEXT = None,
    new_days: TEXT = None,
    new_reason: TEXT = None,
) -> Response:
    try:
        form = _event_form(session, principal, kind, event_id)
        reason_text = parse_text(reason, label="申请理由", max_length=2000) or ""
    except PageError as error:
        return _page_error(request, error)
    payload: dict[str, Any] = {}
    if form["kind"] == CORRECT:
        fields = {
            "event_id": new_event_id,
            "type": new_type,
            "at": new_at,
            "window_code": new_window_code,
            "staff_code": new_staff_code,
            "applicant_name": new_applicant_name,
            "days": new_days,
            "reason": new_reason,
        }
        form["values"] = {k: (v or "").strip()[:2000] for k, v in fields.items()}
        try:
            parse_moment(new_at, label="发生时间")  # out of range: said in Chinese (the API's is English)
        except PageError as error:
            return _render_new(
                request, principal, form, reason=reason or "", error=error.message, status_code=422
            )
        payload = {"replacement": _replacement(session, form["case"], form["values"])}
    if not reason_text:
        return _render_new(request, principal, form, error="请填写申请理由。", status_code=422)
    try:
        created = create_request(
            session,
            requester=principal,
            kind=form["kind"],
            target=form["event"].event_id,
            payload=payload,
            reason=reason_text,
            now=now,
            calendar=calendar,
            default_profile_key=settings.rule_profile,
        )
    except ApprovalError as exc:
        message = exc.zh or exc.detail
        return _render_new(
            request, principal, form, reason=reason_text, error=message, status_code=exc.status_code
        )
    return RedirectResponse(f"/console/approvals/{created.id}", status_code=303)


def _replacement(session: Session, case: Case, values: dict[str, str]) -> dict[str, Any]:
    """The replacement event from the form: same case, hall and item; empty fields left out."""
    hall = session.get(Hall, case.hall_id)
    item = session.get(Item, case.item_id)
    assert hall is not None and item is not None
    event: dict[str, Any] = {"case_no": case.case_no, "hall_code": hall.code, "item_code": item.code}
    for key, value in values.items():
        if value:
            event[key] = value
    return event


@router.get("/console/approvals/{request_id}", response_class=HTMLResponse)
def approval_page(
    request: Request, request_id: str, principal: PagePrincipal, session: SessionDep, done: str | None = None
) -> HTMLResponse:
    """One request: what is asked, by whom, why, its status; approve/reject forms for a decider."""
    try:
        approval = get_request(session, principal=principal, request_id=_parse_id(request_id))
    except PageError as error:
        return _page_error(request, error)
    except ApprovalError as exc:
        return _page_error(request, _from_approval_error(exc))
    return _render_detail(request, principal, session, approval, notice=_DONE.get(done or ""))


_DONE = {
    ApprovalStatus.APPROVED.value: "已批准，变更已生效。",
    ApprovalStatus.REJECTED.value: "已驳回。",
    ApprovalStatus.WITHDRAWN.value: "已撤回。",
}


def _render_detail(
    request: Request,
    principal: Principal,
    session: Session,
    approval: ApprovalOut,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    replacement = approval.payload.get("replacement") if approval.kind == CORRECT else None
    context = {
        "nav": "approvals",
        "principal": principal,
        "approval": approval,
        "case_no": _case_no(session, approval),
        "replacement": replacement,
        "event_types": {t.value: text for t, text in EVENT_LABELS.items()},
        "notice": notice,
        "error": error,
        **_labels(),
    }
    return render(request, "approval_detail.html", context, status_code=status_code)


@router.post("/console/approvals/{request_id}/{action}", response_model=None)
def decide_submit(
    request: Request,
    request_id: str,
    action: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    note: TEXT = None,
) -> Response:
    """批准 / 驳回 / 撤回; a refusal shows the request again with the reason, in Chinese."""
    try:
        number = _parse_id(request_id)
        note_text = parse_text(note, label="审批意见", max_length=2000) or ""
        if action not in ("approve", "reject", "withdraw"):
            raise PageError(404, "未找到", "没有这个操作。")
        if action == "reject" and not note_text:
            raise PageError(422, "请填写意见", "驳回时请填写审批意见。")
    except PageError as error:
        return _page_error(request, error)
    try:
        if action == "approve":
            approve(
                session,
                principal=principal,
                request_id=number,
                note=note_text,
                now=now,
                calendar=calendar,
                default_profile_key=settings.rule_profile,
            )
        elif action == "reject":
            reject(session, principal=principal, request_id=number, note=note_text, now=now)
        else:
            withdraw(session, principal=principal, request_id=number, now=now)
    except ApprovalError as exc:
        return _refused(request, principal, session, number, exc)
    done = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}[action]
    return RedirectResponse(f"/console/approvals/{number}?done={done}", status_code=303)


def _refused(
    request: Request, principal: Principal, session: Session, number: int, exc: ApprovalError
) -> HTMLResponse:
    """Show the request again with why the decision was refused (or a plain error page if hidden)."""
    try:
        approval = get_request(session, principal=principal, request_id=number)
    except ApprovalError:
        return _page_error(request, _from_approval_error(exc))
    return _render_detail(
        request, principal, session, approval, error=exc.zh or exc.detail, status_code=exc.status_code
    )


__all__ = ["router"]
