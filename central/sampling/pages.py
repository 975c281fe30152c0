"""Console pages (zh-CN) of sampling supervision (抽样监察, SC-6(4)): my reviews to do, the draws of
my jurisdiction, a new draw, each department's coverage in a month; one draw with its cases, the
review form on the cases dealt to me, and the recomputation from the recorded seed."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from central.access.console_session import PagePrincipal
from central.access.deps import Principal
from central.cases.service import describe_validation
from central.core.clock import shanghai_date
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.sampling.draw import KIND_LABELS
from central.sampling.queries import coverage, draw_detail, list_draws, my_pending, visible_draw
from central.sampling.review import may_sample, review_case
from central.sampling.schemas import FINDING_LABELS, MONTH, Finding, ReviewIn, SamplingError
from central.sampling.service import create_draw, scope_code_of, verify_draw
from central.signals.reasons import MANUAL_REASONS, REASONS
from central.web.forms import PageError
from central.web.templating import PageTemplates, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

TEMPLATES = PageTemplates(
    folder=Path(__file__).parent / "templates",
    globals={
        "sample_kind_label": lambda k: KIND_LABELS.get(k, "按部门补足" if k == "coverage" else k),
        "sample_finding_label": lambda f: FINDING_LABELS[Finding(f)] if f else "待复核",
        "reason_label": lambda code: (
            f"{REASONS[code].label}（{REASONS[code].rule}）" if code in REASONS else code
        ),
    },
)
NAV = "sampling"


def last_month(today: date) -> str:
    previous = today.replace(day=1) - timedelta(days=1)
    return f"{previous.year:04d}-{previous.month:02d}"


def _month(value: str | None, default: str) -> str:
    text = (value or "").strip()
    if not text:
        return default
    if not re.match(MONTH, text):
        raise PageError(400, "月份格式不正确", f"月份“{text[:20]}”无效，请按 2026-10 的格式填写。")
    return text


def _refused(request: Request, exc: SamplingError) -> HTMLResponse:
    titles = {403: "无权进行该操作", 404: "找不到该抽样", 409: "无法完成该操作"}
    return error_page(
        request, PageError(exc.status_code, titles.get(exc.status_code, "请求有误"), exc.zh), nav=NAV
    )


@router.get("/console/sampling", response_class=HTMLResponse)
def sampling_page(
    request: Request, principal: PagePrincipal, session: SessionDep, now: NowDep, month: str | None = None
) -> HTMLResponse:
    """抽样监察: my reviews, the draws, a new draw, the month's coverage per department."""
    return _overview(request, principal, session, now, month=month, error=None, values={})


def _overview(
    request: Request,
    principal: Principal,
    session: Any,
    now: Any,
    *,
    month: str | None,
    error: str | None,
    values: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    default = last_month(shanghai_date(now))
    try:
        may_sample(principal)
        chosen = _month(month, default)
        context: dict[str, Any] = {
            "nav": NAV,
            "principal": principal,
            "month": chosen,
            "default_month": default,
            "my_scope": scope_code_of(principal.jurisdiction),
            "mine": my_pending(session, principal=principal),
            "draws": list_draws(session, principal=principal),
            "coverage": coverage(session, month=chosen, principal=principal),
            "error": error,
            "values": values,
        }
    except SamplingError as exc:
        return _refused(request, exc)
    except PageError as exc:
        return error_page(request, exc, nav=NAV)
    return render(request, "sampling.html", context, status_code=status_code)


@router.post("/console/sampling/draws", response_model=None)
async def draw_from_form(
    request: Request, principal: PagePrincipal, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("month", "scope", "note")}
    try:
        may_sample(principal)
        month = _month(values["month"], last_month(shanghai_date(now)))
        if len(values["note"]) > 500:
            raise PageError(400, "说明过长", "说明最多 500 个字符。")
        made = create_draw(
            session,
            month=month,
            scope_code=values["scope"] or None,
            within=principal.jurisdiction,
            actor=principal.actor,
            drawn_by_id=principal.user_id,
            now=now,
            default_profile=settings.rule_profile,
            note=values["note"] or None,
        )
    except (SamplingError, PageError) as exc:
        session.rollback()
        message = exc.zh if isinstance(exc, SamplingError) else exc.message
        return _overview(
            request,
            principal,
            session,
            now,
            month=None,
            error=message,
            values=values,
            status_code=exc.status_code,
        )
    session.commit()
    return RedirectResponse(f"/console/sampling/draws/{made.id}", status_code=303)


@router.get("/console/sampling/draws/{draw_id}", response_class=HTMLResponse)
def draw_page(
    request: Request, draw_id: str, principal: PagePrincipal, session: SessionDep, verify: str | None = None
) -> HTMLResponse:
    return _detail(request, draw_id, principal, session, verify=bool(verify), error=None)


def _detail(
    request: Request,
    draw_id: str,
    principal: Principal,
    session: Any,
    *,
    verify: bool,
    error: str | None,
    status_code: int = 200,
) -> HTMLResponse:
    if not draw_id.isdigit() or len(draw_id) > 9:
        return _refused(request, SamplingError(404, "no such draw", "没有该抽样，或不在您的辖区内。"))
    try:
        detail = draw_detail(session, draw_id=int(draw_id), principal=principal)
        check = (
            verify_draw(session, draw=visible_draw(session, draw_id=detail.id, principal=principal))
            if verify
            else None
        )
    except SamplingError as exc:
        return _refused(request, exc)
    context = {
        "nav": NAV,
        "principal": principal,
        "draw": detail,
        "check": check,
        "error": error,
        "reasons": MANUAL_REASONS,
        "findings": FINDING_LABELS,
    }
    return render(request, "sampling_draw.html", context, status_code=status_code)


@router.post("/console/sampling/cases/{sample_case_id}/review", response_model=None)
async def review_from_form(
    request: Request,
    sample_case_id: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> Response:
    form = await request.form()
    draw_id = str(form.get("draw_id") or "")
    if not sample_case_id.isdigit() or len(sample_case_id) > 9:
        return _refused(
            request, SamplingError(404, "no such sampled case", "没有该抽样办件，或不在您的辖区内。")
        )
    try:
        body = ReviewIn(
            finding=str(form.get("finding") or ""),
            reason_code=str(form.get("reason_code") or "") or None,
            note=str(form.get("note") or "").strip() or None,
        )
        reviewed = review_case(
            session,
            sample_case_id=int(sample_case_id),
            body=body,
            principal=principal,
            now=now,
            calendar=calendar,
            default_profile=settings.rule_profile,
        )
    except ValidationError as exc:
        session.rollback()
        return _detail(request, draw_id, principal, session, verify=False, error=_why(exc), status_code=400)
    except SamplingError as exc:
        session.rollback()
        if exc.status_code == 404 or not draw_id:
            return _refused(request, exc)
        return _detail(
            request, draw_id, principal, session, verify=False, error=exc.zh, status_code=exc.status_code
        )
    session.commit()
    return RedirectResponse(f"/console/sampling/draws/{reviewed.draw_id}#case-{reviewed.id}", status_code=303)


def _why(exc: ValidationError) -> str:
    if any("cites the rule" in str(err.get("msg", "")) for err in exc.errors()):
        return "认定不合规须选择所违反的规则。"
    return f"复核内容有误：{describe_validation(exc)}"
