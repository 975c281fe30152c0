"""Console pages (zh-CN), server-rendered with Jinja2: the case list and one case's timeline.

Query parameters arrive as plain strings and are checked by `central.web.forms` and
`central.cases.labels`, so a bad one (light=purple, page=0) gets a 400 page with a Chinese message
instead of the API's JSON 422.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from central.access.console_session import PagePrincipal
from central.cases.clock import Light
from central.cases.labels import (
    CASE_NO,
    LIGHT_LABELS,
    STATUS_LABELS,
    TEMPLATE_HELPERS,
    filters_query,
    parse_case_no_prefix,
)
from central.cases.lifecycle import CaseStatus
from central.cases.queries import CaseFilters, get_case, list_cases
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.registry.queries import list_departments, list_halls, list_windows
from central.web.forms import (
    PageError,
    bad_parameter,
    parse_choice,
    parse_day,
    parse_moment,
    parse_positive,
    parse_text,
    shanghai_input_value,
)
from central.web.paging import pager
from central.web.templating import PageTemplates, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE = 1_000_000
# The case labels are filters and functions alike: other domains' templates show cases too.
TEMPLATES = PageTemplates(
    folder=Path(__file__).parent / "templates", globals=TEMPLATE_HELPERS, filters=TEMPLATE_HELPERS
)


def _error_page(request: Request, error: PageError) -> HTMLResponse:
    return error_page(request, error)


@router.get("/console/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    principal: PagePrincipal,
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
        halls = list_halls(session, within=principal.jurisdiction)
        hall_code = parse_text(hall, label="大厅编号", max_length=40)
        if hall_code and hall_code not in {h.code for h in halls}:
            raise bad_parameter(f"没有编号为“{hall_code}”的大厅。")
        all_departments = list_departments(session, within=principal.jurisdiction)
        department_code = parse_text(department, label="部门编号", max_length=40)
        if department_code and department_code not in {d.code for d in all_departments}:
            raise bad_parameter(f"没有编号为“{department_code}”的部门。")
        filters = CaseFilters(
            hall_code=hall_code,
            department_code=department_code,
            light=parse_choice(light, kind=Light, labels=LIGHT_LABELS, label="灯色"),
            status=parse_choice(status, kind=CaseStatus, labels=STATUS_LABELS, label="状态"),
            accepted_from=parse_day(accepted_from, label="受理日期（起）"),
            accepted_to=parse_day(accepted_to, label="受理日期（止）"),
            case_no_prefix=parse_case_no_prefix(case_no),
            within=principal.jurisdiction,
        )
        if filters.accepted_from and filters.accepted_to and filters.accepted_from > filters.accepted_to:
            raise bad_parameter("受理日期的起始日晚于截止日，请调换或修改。")
        number = parse_positive(page, label="页码", default=1, maximum=MAX_PAGE)
        size = parse_positive(
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
    query = filters_query(filters, page_size=size, default_page_size=DEFAULT_PAGE_SIZE)
    departments = [
        d for d in all_departments if not hall_code or d.code == department_code or d.hall_code == hall_code
    ]
    hall_names = {h.code: h.name for h in halls}
    context: dict[str, Any] = {
        "nav": "cases",
        "principal": principal,
        "query": query,
        "halls": halls,
        "departments": departments,
        "hall_names": hall_names,
        "show_hall_in_department": not hall_code and len(halls) > 1,
        "lights": LIGHT_LABELS,
        "statuses": STATUS_LABELS,
        "result": result,
        **pager("/console/cases", query, page=number, total=result.total, page_size=size),
        "has_filters": any(k != "page_size" for k in query),
    }
    return render(request, "cases_list.html", context)


@router.get("/console/cases/{case_no}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_no: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    as_of: str | None = None,
) -> HTMLResponse:
    """One case with its timeline; `as_of` shows it as it stood then (later events hidden)."""
    try:
        moment = parse_moment(as_of)
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
            within=principal.jurisdiction,
        )
    if detail is None:
        return render(
            request,
            "case_not_found.html",
            {"nav": "cases", "case_no": case_no[:64], "as_of": moment, "searchable": well_formed},
            status_code=404,
        )
    hall_names = {h.code: h.name for h in list_halls(session, within=principal.jurisdiction)}
    window_names = {w.code: w.name for w in list_windows(session, hall_code=detail.hall_code)}
    context: dict[str, Any] = {
        "nav": "cases",
        "principal": principal,
        "case": detail,
        "hall_name": hall_names.get(detail.hall_code, detail.hall_code),
        "window_names": window_names,
        "audit": moment is not None,
        "as_of_value": shanghai_input_value(moment or now),
    }
    return render(request, "case_detail.html", context)
