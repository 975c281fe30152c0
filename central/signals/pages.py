"""Console pages (zh-CN): my signals, all signals, one signal with its timeline and action forms,
and the form an inspector raises a signal with.

Forms post with the session cookie; it is SameSite=Strict (see central/access/login_pages.py), so another
site cannot submit them in the user's name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from central.access.console_session import PagePrincipal
from central.access.deps import Principal
from central.access.refusals import audit_refusal
from central.access.roles import Permission
from central.cases.service import describe_validation
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.signals.lifecycle import (
    ACTION_LABELS,
    FINDING_LABELS,
    STATUS_LABELS,
    SignalAction,
    SignalStatus,
    SignalTransitionError,
)
from central.signals.queries import SignalFilters, get_signal, list_signals
from central.signals.reasons import MANUAL_REASONS, Color
from central.signals.schemas import SignalActionIn, SignalCreate
from central.signals.service import (
    SignalForbidden,
    SignalInputError,
    SignalNotFound,
    act_on_signal,
    raise_signal,
)
from central.web.forms import PageError, bad_parameter, parse_choice, parse_positive
from central.web.paging import pager
from central.web.templating import PageTemplates, error_page, render
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

COLOR_LABELS = {Color.GREEN: "绿色预警", Color.YELLOW: "黄色纠错", Color.RED: "红色纠错"}
PAGE_SIZE = 20
TEMPLATES = PageTemplates(
    folder=Path(__file__).parent / "templates",
    globals={
        "signal_status_label": lambda s: STATUS_LABELS[SignalStatus(s)],
        "signal_color_label": lambda c: COLOR_LABELS[Color(c)],
        "signal_action_label": lambda a: ACTION_LABELS[SignalAction(a)],
        "finding_label": lambda f: FINDING_LABELS.get(f, "—") if f else "—",
    },
)


def _may_not_raise(request: Request) -> HTMLResponse:
    audit_refusal(request, action="refused.forbidden", detail="may not raise signals")
    message = "只有电子监察员和系统监管员可以发出纠错信号。"
    return error_page(request, PageError(403, "无权发出信号", message), nav="signals")


def _not_found(request: Request) -> HTMLResponse:
    error = PageError(404, "找不到该信号", "该信号不存在，或不在您的辖区内。")
    return error_page(request, error, nav="signals")


@router.get("/console/signals", response_class=HTMLResponse)
def signals_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    view: str | None = None,
    color: str | None = None,
    status: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    """'我的信号' (those I can act on now) by default; `view=all` lists every signal I may see."""
    try:
        if view not in (None, "", "mine", "all"):
            raise bad_parameter("视图只能是“我的待办”或“全部”。")
        mine = view != "all"
        filters = SignalFilters(
            color=parse_choice(color, kind=Color, labels=COLOR_LABELS, label="颜色"),
            status=parse_choice(status, kind=SignalStatus, labels=STATUS_LABELS, label="状态"),
            needs_my_action=mine,
        )
        number = parse_positive(page, label="页码", default=1, maximum=1_000_000)
    except PageError as error:
        return error_page(request, error, nav="signals")
    result = list_signals(session, principal=principal, filters=filters, page=number, page_size=PAGE_SIZE)
    query = {
        k: v
        for k, v in {"view": "all" if not mine else "", "color": color or "", "status": status or ""}.items()
        if v
    }
    context: dict[str, Any] = {
        "nav": "signals",
        "principal": principal,
        "mine": mine,
        "query": query,
        "colors": COLOR_LABELS,
        "statuses": STATUS_LABELS,
        "result": result,
        **pager("/console/signals", query, page=number, total=result.total, page_size=PAGE_SIZE),
        "may_raise": principal.may(Permission.SIGNALS_SUPERVISE),
    }
    return render(request, "signals_list.html", context)


@router.get("/console/signals/new", response_class=HTMLResponse)
def new_signal_form(request: Request, principal: PagePrincipal, case_no: str | None = None) -> HTMLResponse:
    if not principal.may(Permission.SIGNALS_SUPERVISE):
        return _may_not_raise(request)
    return _new_form(request, principal, values={"case_no": (case_no or "")[:64]}, error=None)


def _new_form(
    request: Request, principal: Any, *, values: dict[str, str], error: str | None, status_code: int = 200
) -> HTMLResponse:
    context = {
        "nav": "signals",
        "principal": principal,
        "reasons": MANUAL_REASONS,
        "values": values,
        "error": error,
    }
    return render(request, "signal_new.html", context, status_code=status_code)


@router.post("/console/signals/new", response_model=None)
async def raise_from_form(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k) or "").strip()
        for k in ("reason_code", "reason", "evidence", "case_no", "department_code")
    }
    if not principal.may(Permission.SIGNALS_SUPERVISE):
        return _may_not_raise(request)
    try:
        body = SignalCreate(**{k: v or None for k, v in values.items()})
        signal = raise_signal(
            session,
            body=body,
            principal=principal,
            now=now,
            calendar=calendar,
            default_profile=settings.rule_profile,
        )
    except ValidationError as exc:
        return _new_form(request, principal, values=values, error=describe_validation(exc), status_code=400)
    except SignalInputError as exc:
        return _new_form(request, principal, values=values, error=str(exc), status_code=400)
    session.commit()
    return RedirectResponse(f"/console/signals/{signal.id}", status_code=303)


@router.get("/console/signals/{signal_id}", response_class=HTMLResponse)
def signal_page(
    request: Request, signal_id: str, principal: PagePrincipal, session: SessionDep
) -> HTMLResponse:
    return _detail(request, signal_id, principal, session, error=None)


def _detail(
    request: Request,
    signal_id: str,
    principal: Any,
    session: Any,
    *,
    error: str | None,
    status_code: int = 200,
) -> HTMLResponse:
    if not signal_id.isdigit() or len(signal_id) > 18:
        return _not_found(request)
    try:
        signal = get_signal(session, signal_id=int(signal_id), principal=principal)
    except SignalNotFound:
        return _not_found(request)
    context = {
        "nav": "signals",
        "principal": principal,
        "signal": signal,
        "error": error,
        "findings": FINDING_LABELS,
        "may_investigate": SignalAction.INVESTIGATE in signal.allowed_actions,
    }
    return render(request, "signal_detail.html", context, status_code=status_code)


class SignalFormAction(Protocol):
    """A form action on a signal's page that another domain carries out (registered by the app
    factory in `app.state.signal_form_actions`); does not commit, refuses with SignalInputError or
    SignalTransitionError (409), a ValidationError (400) or SignalForbidden (403)."""

    def __call__(
        self,
        session: Session,
        *,
        signal_id: int,
        form: Mapping[str, Any],
        principal: Principal,
        now: datetime,
        calendar: WorkCalendar,
        default_profile: str,
    ) -> None: ...


@router.post("/console/signals/{signal_id}/actions", response_model=None)
async def act_from_form(
    request: Request,
    signal_id: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> Response:
    if not signal_id.isdigit() or len(signal_id) > 18:
        return _not_found(request)
    form = await request.form()
    action = str(form.get("action") or "")
    handled_elsewhere: Mapping[str, SignalFormAction] = request.app.state.signal_form_actions
    try:
        if action in handled_elsewhere:  # investigate: central.investigations.signal_form
            handled_elsewhere[action](
                session,
                signal_id=int(signal_id),
                form=form,
                principal=principal,
                now=now,
                calendar=calendar,
                default_profile=settings.rule_profile,
            )
        else:
            body = SignalActionIn(
                action=action,
                note=str(form.get("note") or "").strip() or None,
                finding=str(form.get("finding") or "") or None,
            )
            act_on_signal(session, signal_id=int(signal_id), body=body, principal=principal, now=now)
    except SignalNotFound:
        return _not_found(request)
    except ValidationError as exc:
        return _failed(request, signal_id, principal, session, describe_validation(exc), 400)
    except SignalForbidden as exc:
        return _failed(request, signal_id, principal, session, f"无权执行该操作：{exc}", 403)
    except (SignalInputError, SignalTransitionError) as exc:
        return _failed(request, signal_id, principal, session, str(exc), 409)
    session.commit()
    return RedirectResponse(f"/console/signals/{signal_id}", status_code=303)


def _failed(
    request: Request, signal_id: str, principal: Any, session: Any, message: str, code: int
) -> HTMLResponse:
    session.rollback()
    return _detail(request, signal_id, principal, session, error=message, status_code=code)
