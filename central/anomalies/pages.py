"""Console page (zh-CN) of data supervision (数据监察, SC-6(2)): the rules' hits in my jurisdiction,
open ones per hall, each with its evidence and the two decisions (转为纠错信号, 排除 with a reason),
and every rule explained with the figures of the profiles my halls run under."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from central.access.console_session import PagePrincipal
from central.access.deps import Principal
from central.anomalies.explain import LABELS, STATUS_LABELS
from central.anomalies.queries import latest_run, list_hits, open_by_hall, rules_explained
from central.anomalies.review import dismiss_hit, may_supervise, signal_hit
from central.anomalies.schemas import DEFAULT_REASON, AnomalyError, HitDismissIn, HitSignalIn, HitStatus
from central.cases.service import describe_validation
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.signals.reasons import MANUAL_REASONS, REASONS
from central.web.forms import PageError, bad_parameter, parse_choice, parse_positive, parse_text
from central.web.paging import pager
from central.web.templating import PageTemplates, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

TEMPLATES = PageTemplates(folder=Path(__file__).parent / "templates")
NAV = "anomalies"
PAGE_SIZE = 30
STATUS_CHOICES = {HitStatus(k): v for k, v in STATUS_LABELS.items()}


def _refused(request: Request, exc: AnomalyError) -> HTMLResponse:
    titles = {403: "无权查看数据监察", 404: "找不到该线索", 409: "无法处理该线索"}
    return error_page(
        request, PageError(exc.status_code, titles.get(exc.status_code, "请求有误"), exc.zh), nav=NAV
    )


@router.get("/console/anomalies", response_class=HTMLResponse)
def anomalies_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    rule: str | None = None,
    status: str | None = None,
    hall: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    return _page(
        request,
        principal,
        session,
        settings,
        params={"rule": rule, "status": status, "hall": hall, "page": page},
    )


def _page(
    request: Request,
    principal: Principal,
    session: Any,
    settings: Any,
    *,
    params: dict[str, str | None],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        may_supervise(principal)
        rule = (params.get("rule") or "").strip() or None
        if rule is not None and rule not in LABELS:
            raise bad_parameter(f"规则参数无效：“{rule[:40]}”。")
        chosen = "open" if params.get("status") is None else params.get("status")
        status = parse_choice(chosen, kind=HitStatus, labels=STATUS_CHOICES, label="状态")
        hall = parse_text(params.get("hall"), label="大厅代码", max_length=40)
        number = parse_positive(params.get("page"), label="页码", default=1, maximum=100_000)
    except AnomalyError as exc:
        return _refused(request, exc)
    except PageError as exc:
        return error_page(request, exc, nav=NAV)
    result = list_hits(
        session,
        principal=principal,
        rule=rule,
        status=status,
        hall_code=hall,
        page=number,
        page_size=PAGE_SIZE,
    )
    query = {k: v for k, v in {"rule": rule or "", "status": chosen or "", "hall": hall or ""}.items() if v}
    context: dict[str, Any] = {
        "nav": NAV,
        "principal": principal,
        "result": result,
        "query": query,
        "labels": LABELS,
        "statuses": STATUS_LABELS,
        "halls": open_by_hall(session, principal=principal),
        "profiles": rules_explained(session, principal=principal, default_profile=settings.rule_profile),
        "run": latest_run(session),
        "reasons": [REASONS[DEFAULT_REASON], *MANUAL_REASONS],
        "error": error,
        **pager("/console/anomalies", query, page=number, total=result.total, page_size=PAGE_SIZE),
    }
    return render(request, "anomalies.html", context, status_code=status_code)


@router.post("/console/anomalies/hits/{hit_id}/{decision}", response_model=None)
async def decide_from_form(
    request: Request,
    hit_id: str,
    decision: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> Response:
    form = await request.form()
    back = {k: str(form.get(k) or "") or None for k in ("rule", "status", "hall", "page")}
    if not hit_id.isdigit() or len(hit_id) > 9 or decision not in ("signal", "dismiss"):
        return _refused(request, AnomalyError(404, "no such hit", "没有该线索，或不在您的辖区内。"))
    note = str(form.get("note") or "").strip() or None
    try:
        if decision == "signal":
            body = HitSignalIn(reason_code=str(form.get("reason_code") or DEFAULT_REASON), note=note)
            signal_hit(
                session,
                hit_id=int(hit_id),
                body=body,
                principal=principal,
                now=now,
                calendar=calendar,
                default_profile=settings.rule_profile,
            )
        else:
            dismiss_hit(
                session, hit_id=int(hit_id), body=HitDismissIn(note=note or ""), principal=principal, now=now
            )
    except ValidationError as exc:
        session.rollback()
        message = (
            "排除须填写理由（至少 2 个字）。"
            if decision == "dismiss"
            else f"内容有误：{describe_validation(exc)}"
        )
        return _page(request, principal, session, settings, params=back, error=message, status_code=400)
    except AnomalyError as exc:
        session.rollback()
        if exc.status_code in (403, 404):
            return _refused(request, exc)
        return _page(
            request, principal, session, settings, params=back, error=exc.zh, status_code=exc.status_code
        )
    session.commit()
    query = "&".join(f"{k}={v}" for k, v in back.items() if v)
    return RedirectResponse(f"/console/anomalies?{query}#hit-{hit_id}", status_code=303)
