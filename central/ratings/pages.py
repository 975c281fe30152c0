"""Console pages (zh-CN) for ratings (HCP): the dashboard (figures, daily trend, latest ratings,
export links), the follow-up list (overdue highlighted) and one follow-up with its callback,
rectification and closing forms and the 申请剔除 form.

Parameters and form fields arrive as plain strings and are checked here, so bad input gets a
Chinese page (400, or the step's 403/404/409/422), never a 500 or the API's JSON. Forms post with
the session cookie (SameSite=Strict, see central/access/login_pages.py).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from central.access.console_session import PagePrincipal
from central.access.deps import Principal
from central.approvals.kinds import ApprovalError
from central.core.clock import shanghai_date
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.ratings.chart import daily_points, trend_svg
from central.ratings.exclusion import pending_exclusion, request_exclusion
from central.ratings.figures import RangeError, date_range, satisfaction_figures
from central.ratings.followup_queries import FollowUpFilters, get_followup, list_followups
from central.ratings.followups import FollowUpError
from central.ratings.keypad_health import keypad_rows
from central.ratings.labels import FOLLOWUP_STATUS_LABELS, LEVEL_LABELS, STEP_LABELS, FollowUpStatus
from central.ratings.page_forms import STEP_FORMS, run_step
from central.ratings.recent import recent_ratings
from central.ratings.schemas import FigureBy
from central.web.forms import PageError, bad_parameter, parse_day, parse_positive
from central.web.paging import pager
from central.web.templating import PageTemplates, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
RECENT = 20
MAX_ID = 2_147_483_647
BY_LABELS = {
    FigureBy.DEPARTMENT: "按部门",
    FigureBy.WINDOW: "按窗口",
    FigureBy.STAFF: "按人员",
    FigureBy.HALL: "按大厅",
}
EXPORT_URL = "/api/v1/ratings/export"
ERROR_TITLES = {403: "无权操作", 404: "未找到", 409: "无法执行", 422: "填写有误"}


def _error(request: Request, error: PageError) -> HTMLResponse:
    return error_page(request, error, nav="ratings")


def _by(value: str | None) -> FigureBy:
    value = (value or "").strip()
    if not value:
        return FigureBy.DEPARTMENT
    try:
        by = FigureBy(value)
    except ValueError:
        by = FigureBy.DAY
    if by is FigureBy.DAY:
        allowed = "、".join(f"{b.value}（{text}）" for b, text in BY_LABELS.items())
        raise bad_parameter(f"分组方式无效：“{value[:40]}”。可选值：{allowed}。")
    return by


def _dates(date_from: str | None, date_to: str | None, today: date) -> tuple[date, date]:
    start = parse_day(date_from, label="起始日期")
    end = parse_day(date_to, label="截止日期")
    try:
        return date_range(start, end, today=today)
    except RangeError as exc:
        raise bad_parameter(exc.zh) from exc


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


TEMPLATES = PageTemplates(
    folder=Path(__file__).parent / "templates",
    globals={
        "followup_status_labels": FOLLOWUP_STATUS_LABELS,
        "rating_level_labels": LEVEL_LABELS,
        "step_labels": STEP_LABELS,
    },
    filters={"percent": _percent},
)


@router.get("/console/ratings", response_class=HTMLResponse)
def ratings_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    by: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> HTMLResponse:
    """满意度评价: figures of the range by department/window/staff/hall, the daily trend, the latest
    ratings and export links."""
    today = shanghai_date(now)
    try:
        group = _by(by)
        start, end = _dates(date_from, date_to, today)
    except PageError as error:
        return _error(request, error)
    within = principal.jurisdiction
    figures, daily = (
        satisfaction_figures(
            session,
            within=within,
            by=by_what,
            date_from=start,
            date_to=end,
            default_profile=settings.rule_profile,
        )
        for by_what in (group, FigureBy.DAY)
    )
    points = daily_points(daily.rows, start=start, end=end)
    query = {"date_from": start.isoformat(), "date_to": end.isoformat()}
    export_query = {"from": start.isoformat(), "to": end.isoformat()}
    overdue = list_followups(
        session,
        principal=principal,
        filters=FollowUpFilters(within=within, overdue=True),
        today=today,
        page=1,
        page_size=1,
    )
    context: dict[str, Any] = {
        "nav": "ratings",
        "principal": principal,
        "by": group,
        "by_labels": BY_LABELS,
        "query": query,
        "figures": figures,
        "chart": trend_svg(points, label=f"{start.isoformat()} 至 {end.isoformat()} 每日评价数与满意率"),
        "has_ratings": daily.total.count > 0,
        "recent": recent_ratings(session, within=within, date_from=start, date_to=end, limit=RECENT),
        "overdue_total": overdue.total,
        "keypads": keypad_rows(session, within=within, now=now),
        "csv_url": f"{EXPORT_URL}?" + urlencode({**export_query, "format": "csv"}),
        "xlsx_url": f"{EXPORT_URL}?" + urlencode({**export_query, "format": "xlsx"}),
    }
    return render(request, "ratings.html", context)


def _status(value: str | None) -> FollowUpStatus | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return FollowUpStatus(value)
    except ValueError:
        allowed = "、".join(f"{code}（{text}）" for code, text in FOLLOWUP_STATUS_LABELS.items())
        raise bad_parameter(f"状态参数无效：“{value[:40]}”。可选值：{allowed}。") from None


def _flag(value: str | None) -> bool:
    word = (value or "").strip().lower()
    if word in ("", "0", "false", "off", "no"):
        return False
    if word in ("1", "true", "on", "yes"):
        return True
    raise bad_parameter(f"“仅超期”参数无效：“{word[:40]}”，应为 1 或留空。")


@router.get("/console/ratings/followups", response_class=HTMLResponse)
def followups_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    now: NowDep,
    status: str | None = None,
    overdue: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    """差评回访整改: every follow-up of the jurisdiction, overdue ones highlighted."""
    try:
        filters = FollowUpFilters(
            within=principal.jurisdiction, status=_status(status), overdue=_flag(overdue)
        )
        number = parse_positive(page, label="页码", default=1, maximum=1_000_000)
    except PageError as error:
        return _error(request, error)
    today = shanghai_date(now)
    result = list_followups(
        session, principal=principal, filters=filters, today=today, page=number, page_size=PAGE_SIZE
    )
    query = {
        key: value
        for key, value in {
            "status": filters.status.value if filters.status else "",
            "overdue": "1" if filters.overdue else "",
        }.items()
        if value
    }
    context: dict[str, Any] = {
        "nav": "ratings",
        "principal": principal,
        "query": query,
        "result": result,
        **pager("/console/ratings/followups", query, page=number, total=result.total, page_size=PAGE_SIZE),
    }
    return render(request, "followups.html", context)


def _followup_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or not 1 <= int(value) <= MAX_ID:
        raise PageError(404, "未找到", f"没有编号为“{value[:40]}”的差评回访整改，或不在您的辖区内。")
    return int(value)


def render_detail(
    request: Request,
    *,
    session: Session,
    principal: Principal,
    followup_id: str,
    today: date,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """One follow-up with the forms the caller may use now (and an error above them, if any)."""
    try:
        followup = get_followup(
            session, principal=principal, followup_id=_followup_id(followup_id), today=today
        )
    except PageError as page_error:
        return _error(request, page_error)
    except FollowUpError as exc:
        return _error(
            request, PageError(exc.status_code, ERROR_TITLES.get(exc.status_code, "请求有误"), exc.zh)
        )
    context: dict[str, Any] = {
        "nav": "ratings",
        "principal": principal,
        "f": followup,
        "error": error,
        "pending_exclusion": pending_exclusion(session, rating_id=followup.rating_id),
        "may_exclude": not followup.excluded,
    }
    return render(request, "followup_detail.html", context, status_code=status_code)


@router.get("/console/ratings/followups/{followup_id}", response_class=HTMLResponse)
def followup_page(
    request: Request, followup_id: str, principal: PagePrincipal, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return render_detail(
        request, session=session, principal=principal, followup_id=followup_id, today=shanghai_date(now)
    )


@router.post("/console/ratings/followups/{followup_id}/exclusion", response_model=None)
async def exclusion_from_form(
    request: Request,
    followup_id: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> Response:
    """申请剔除: a pending approval request for the follow-up's 差评; the approval page follows."""
    today = shanghai_date(now)
    try:
        followup = get_followup(
            session, principal=principal, followup_id=_followup_id(followup_id), today=today
        )
    except PageError as error:
        return _error(request, error)
    except FollowUpError as exc:
        return _error(
            request, PageError(exc.status_code, ERROR_TITLES.get(exc.status_code, "请求有误"), exc.zh)
        )
    form = await request.form()
    reason = str(form.get("reason") or "").strip()
    problem = (
        "请填写申请剔除的理由。"
        if not reason
        else ("理由过长：最多 2000 个字符。" if len(reason) > 2000 else None)
    )
    if problem is None:
        try:
            approval = request_exclusion(
                session,
                requester=principal,
                rating_id=followup.rating_id,
                reason=reason,
                now=now,
                calendar=calendar,
                default_profile_key=settings.rule_profile,
            )
        except ApprovalError as exc:
            session.rollback()
            problem = exc.zh or exc.detail
            code = exc.status_code
        else:
            return RedirectResponse(f"/console/approvals/{approval.id}", status_code=303)
    else:
        code = 400
    return render_detail(
        request,
        session=session,
        principal=principal,
        followup_id=followup_id,
        today=today,
        error=problem,
        status_code=code,
    )


@router.post("/console/ratings/followups/{followup_id}/{step}", response_model=None)
async def step_from_form(
    request: Request, followup_id: str, step: str, principal: PagePrincipal, session: SessionDep, now: NowDep
) -> Response:
    """回访 / 整改 / 办结 from the detail page's forms."""
    today = shanghai_date(now)
    try:
        number = _followup_id(followup_id)
        if step not in STEP_FORMS:
            raise PageError(404, "未找到", "没有这个操作。")
    except PageError as error:
        return _error(request, error)
    form = await request.form()
    fields = {key: str(value) for key, value in form.items()}
    message, code = run_step(
        session, principal=principal, followup_id=number, step=step, fields=fields, now=now
    )
    if message is not None:
        session.rollback()
        return render_detail(
            request,
            session=session,
            principal=principal,
            followup_id=followup_id,
            today=today,
            error=message,
            status_code=code,
        )
    session.commit()
    return RedirectResponse(f"/console/ratings/followups/{number}", status_code=303)


__all__ = ["router"]
