"""Console pages (zh-CN), server-rendered with Jinja2.

Query parameters arrive as plain strings and are checked here, so a bad one (light=purple,
page=0) gets a 400 page with a Chinese message instead of the API's JSON 422.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from central.cases.clock import Light
from central.cases.lifecycle import CaseStatus
from central.cases.queries import CaseFilters, get_case, list_cases
from central.cases.schemas import CODE
from central.core.clock import ensure_aware
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.registry.queries import list_departments, list_halls, list_windows
from central.web.labels import LIGHT_LABELS, STATUS_LABELS, TEMPLATE_HELPERS, shanghai_input_value

logger = logging.getLogger(__name__)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters.update(TEMPLATE_HELPERS)
templates.env.globals.update(TEMPLATE_HELPERS)
router = APIRouter(include_in_schema=False)

E = TypeVar("E", Light, CaseStatus)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE = 1_000_000
CASE_NO = re.compile(CODE)  # as the event API stores them
CASE_NO_PREFIX = re.compile(r"[A-Za-z0-9_.\-]+")
MIN_YEAR, MAX_YEAR = 1900, 9000  # keeps time-zone arithmetic far from datetime.min/max


class PageError(Exception):
    """A request the page cannot answer; `message` is shown to the person, in Chinese."""

    def __init__(self, status_code: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.title = title
        self.message = message


def _error_page(request: Request, error: PageError) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"nav": "cases", "title": error.title, "message": error.message},
        status_code=error.status_code,
    )


def _bad(message: str) -> PageError:
    return PageError(400, "请求参数有误", message)


# -- parsing query parameters ------------------------------------------------------------------
def _text(value: str | None, *, label: str, max_length: int) -> str | None:
    value = (value or "").strip()
    if len(value) > max_length:
        raise _bad(f"{label}过长：最多 {max_length} 个字符。")
    return value or None


def _choice(value: str | None, *, kind: type[E], labels: dict[E, str], label: str) -> E | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = "、".join(f"{v.value}（{text}）" for v, text in labels.items())
        raise _bad(f"{label}参数无效：“{value[:40]}”。可选值：{allowed}。") from None


def _day(value: str | None, *, label: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(f"{label}格式无效：“{value[:40]}”，应为 YYYY-MM-DD，例如 2026-10-12。") from None


def _positive(value: str | None, *, label: str, default: int, maximum: int) -> int:
    value = (value or "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= maximum:
        raise _bad(f"{label}无效：“{value[:40]}”，应为 1 到 {maximum} 之间的整数。")
    return number


def _case_no_prefix(value: str | None) -> str | None:
    prefix = _text(value, label="办件编号", max_length=64)
    if prefix and not CASE_NO_PREFIX.fullmatch(prefix):
        raise _bad(f"办件编号“{prefix}”含有不允许的字符：只能有字母、数字、点、横线和下划线。")
    return prefix


def _moment(value: str | None) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = ensure_aware(datetime.fromisoformat(value))
    except ValueError:
        raise _bad(
            f"查询时点格式无效：“{value[:40]}”，应为 YYYY-MM-DDTHH:MM（北京时间），例如 2026-10-12T09:30。"
        ) from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise _bad(f"查询时点超出范围：年份应在 {MIN_YEAR} 到 {MAX_YEAR} 之间。")
    return moment


# -- pages ------------------------------------------------------------------------------------
@router.get("/console/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    hall: str | None = None,
    department: str | None = None,
    light: str | None = None,
    status: str | None = None,
    accepted_from: str | None = None,
    accepted_to: str | None = None,
    case_no: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> HTMLResponse:
    """办件列表: filters, lights and paging."""
    try:
        halls = list_halls(session)
        hall_code = _text(hall, label="大厅编号", max_length=40)
        if hall_code and hall_code not in {h.code for h in halls}:
            raise _bad(f"没有编号为“{hall_code}”的大厅。")
        all_departments = list_departments(session)
        department_code = _text(department, label="部门编号", max_length=40)
        if department_code and department_code not in {d.code for d in all_departments}:
            raise _bad(f"没有编号为“{department_code}”的部门。")
        filters = CaseFilters(
            hall_code=hall_code,
            department_code=department_code,
            light=_choice(light, kind=Light, labels=LIGHT_LABELS, label="灯色"),
            status=_choice(status, kind=CaseStatus, labels=STATUS_LABELS, label="状态"),
            accepted_from=_day(accepted_from, label="受理日期（起）"),
            accepted_to=_day(accepted_to, label="受理日期（止）"),
            case_no_prefix=_case_no_prefix(case_no),
        )
        if filters.accepted_from and filters.accepted_to and filters.accepted_from > filters.accepted_to:
            raise _bad("受理日期的起始日晚于截止日，请调换或修改。")
        number = _positive(page, label="页码", default=1, maximum=MAX_PAGE)
        size = _positive(
            page_size, label="每页条数", default=DEFAULT_PAGE_SIZE, maximum=settings.page_size_max
        )
    except PageError as error:
        return _error_page(request, error)

    result = list_cases(
        session,
        filters=filters,
        as_of=now,
        calendar=calendar,
        default_profile_key=settings.rule_profile,
        page=number,
        page_size=size,
    )
    query: dict[str, str] = {
        k: v
        for k, v in {
            "hall": filters.hall_code or "",
            "department": filters.department_code or "",
            "light": filters.light.value if filters.light else "",
            "status": filters.status.value if filters.status else "",
            "accepted_from": filters.accepted_from.isoformat() if filters.accepted_from else "",
            "accepted_to": filters.accepted_to.isoformat() if filters.accepted_to else "",
            "case_no": filters.case_no_prefix or "",
            "page_size": str(size) if size != DEFAULT_PAGE_SIZE else "",
        }.items()
        if v
    }
    pages = max(1, math.ceil(result.total / size))

    def page_url(target: int) -> str:
        return "/console/cases?" + urlencode({**query, "page": str(target)})

    departments = [
        d for d in all_departments if not hall_code or d.code == department_code or d.hall_code == hall_code
    ]
    hall_names = {h.code: h.name for h in halls}
    context: dict[str, Any] = {
        "nav": "cases",
        "query": query,
        "halls": halls,
        "departments": departments,
        "hall_names": hall_names,
        "show_hall_in_department": not hall_code and len(halls) > 1,
        "lights": LIGHT_LABELS,
        "statuses": STATUS_LABELS,
        "result": result,
        "pages": pages,
        "prev_url": page_url(number - 1) if number > 1 else None,
        "next_url": page_url(number + 1) if number < pages else None,
        "first_url": page_url(1) if number > pages else None,
        "has_filters": any(k != "page_size" for k in query),
    }
    return templates.TemplateResponse(request, "cases_list.html", context)


@router.get("/console/cases/{case_no}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_no: str,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    as_of: str | None = None,
) -> HTMLResponse:
    """One case with its timeline; `as_of` shows it as it stood then (later events hidden)."""
    try:
        moment = _moment(as_of)
    except PageError as error:
        return _error_page(request, error)
    detail = None
    well_formed = len(case_no) <= 64 and CASE_NO.fullmatch(case_no) is not None
    if well_formed:  # anything else cannot have been stored
        detail = get_case(
            session,
            case_no=case_no,
            as_of=moment or now,
            calendar=calendar,
            default_profile_key=settings.rule_profile,
        )
    if detail is None:
        return templates.TemplateResponse(
            request,
            "case_not_found.html",
            {"nav": "cases", "case_no": case_no[:64], "as_of": moment, "searchable": well_formed},
            status_code=404,
        )
    hall_names = {h.code: h.name for h in list_halls(session)}
    window_names = {w.code: w.name for w in list_windows(session, hall_code=detail.hall_code)}
    context: dict[str, Any] = {
        "nav": "cases",
        "case": detail,
        "hall_name": hall_names.get(detail.hall_code, detail.hall_code),
        "window_names": window_names,
        "audit": moment is not None,
        "as_of_value": shanghai_input_value(moment or now),
    }
    return templates.TemplateResponse(request, "case_detail.html", context)
