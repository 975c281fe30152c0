"""Console page (zh-CN) for the ledger (监察台帐, SC-7): filters, a paged table, export links.

Parameters arrive as plain strings and are checked here with Chinese messages, so a bad one
(color=purple, page=0) gets a 400 page instead of a 500 or the API's JSON 422. The export links
carry the same filters to the API (`/api/v1/ledger/export`), which the session cookie signs in to.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from central.access.console_session import PagePrincipal
from central.cases.labels import parse_case_no_prefix
from central.core.clock import shanghai_date
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.ledger.labels import COLOR_LABELS, ORIGIN_LABELS, REASON_LABELS, SIGNAL_STATUS_LABELS
from central.ledger.queries import LedgerFilters, list_ledger
from central.registry.queries import list_departments, list_halls
from central.registry.schemas import DepartmentPublic, HallPublic
from central.signals.lifecycle import SignalStatus
from central.signals.reasons import Color, Origin
from central.web.forms import (
    PageError,
    bad_parameter,
    parse_day,
    parse_positive,
    parse_text,
)
from central.web.paging import pager
from central.web.templating import PageTemplates, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
TEMPLATES = PageTemplates(folder=Path(__file__).parent / "templates")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE = 1_000_000
EXPORT_URL = "/api/v1/ledger/export"
TRUE_WORDS = {"1", "true", "on", "yes"}
FALSE_WORDS = {"", "0", "false", "off", "no"}

E = TypeVar("E", bound=StrEnum)


def _choice(value: str | None, *, kind: type[E], labels: dict[str, str], label: str) -> E | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = "、".join(f"{code}（{text}）" for code, text in labels.items())
        raise bad_parameter(f"{label}参数无效：“{value[:40]}”。可选值：{allowed}。") from None


def _reason(value: str | None) -> str | None:
    code = parse_text(value, label="原因", max_length=40)
    if code and code not in REASON_LABELS:
        raise bad_parameter(f"没有代码为“{code}”的预警纠错原因。")
    return code


def _flag(value: str | None, *, label: str) -> bool:
    word = (value or "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise bad_parameter(f"{label}参数无效：“{word[:40]}”，应为 1 或留空。")


def _code(value: str | None, *, known: set[str], noun: str) -> str | None:
    code = parse_text(value, label=f"{noun}编号", max_length=40)
    if code and code not in known:  # another jurisdiction's code reads exactly like a missing one
        raise bad_parameter(f"没有编号为“{code}”的{noun}。")
    return code


def _filters(
    params: dict[str, str | None],
    *,
    principal: PagePrincipal,
    halls: list[HallPublic],
    departments: list[DepartmentPublic],
) -> LedgerFilters:
    filters = LedgerFilters(
        within=principal.jurisdiction,
        issued_from=parse_day(params.get("issued_from"), label="发出日期（起）"),
        issued_to=parse_day(params.get("issued_to"), label="发出日期（止）"),
        color=_choice(params.get("color"), kind=Color, labels=COLOR_LABELS, label="颜色"),
        status=_choice(params.get("status"), kind=SignalStatus, labels=SIGNAL_STATUS_LABELS, label="状态"),
        origin=_choice(params.get("origin"), kind=Origin, labels=ORIGIN_LABELS, label="来源"),
        reason_code=_reason(params.get("reason_code")),
        hall_code=_code(params.get("hall"), known={h.code for h in halls}, noun="大厅"),
        department_code=_code(params.get("department"), known={d.code for d in departments}, noun="部门"),
        case_no_prefix=parse_case_no_prefix(params.get("case_no")),
        overdue_investigation=_flag(params.get("overdue_investigation"), label="仅调查超期"),
    )
    if filters.issued_from and filters.issued_to and filters.issued_from > filters.issued_to:
        raise bad_parameter("发出日期的起始日晚于截止日，请调换或修改。")
    return filters


def filter_query(filters: LedgerFilters) -> dict[str, str]:
    """The filters as the API's query parameters (the page uses the same names)."""
    pairs = {
        "issued_from": filters.issued_from.isoformat() if filters.issued_from else None,
        "issued_to": filters.issued_to.isoformat() if filters.issued_to else None,
        "color": filters.color.value if filters.color else None,
        "status": filters.status.value if filters.status else None,
        "origin": filters.origin.value if filters.origin else None,
        "reason_code": filters.reason_code,
        "hall": filters.hall_code,
        "department": filters.department_code,
        "case_no": filters.case_no_prefix,
        "overdue_investigation": "true" if filters.overdue_investigation else None,
    }
    return {key: value for key, value in pairs.items() if value}


@router.get("/console/ledger", response_class=HTMLResponse)
def ledger_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    issued_from: str | None = None,
    issued_to: str | None = None,
    color: str | None = None,
    status: str | None = None,
    origin: str | None = None,
    reason_code: str | None = None,
    hall: str | None = None,
    department: str | None = None,
    case_no: str | None = None,
    overdue_investigation: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> HTMLResponse:
    """监察台帐: every signal of the jurisdiction, filtered, paged, exportable."""
    params = {
        "issued_from": issued_from,
        "issued_to": issued_to,
        "color": color,
        "status": status,
        "origin": origin,
        "reason_code": reason_code,
        "hall": hall,
        "department": department,
        "case_no": case_no,
        "overdue_investigation": overdue_investigation,
    }
    halls = list_halls(session, within=principal.jurisdiction)
    all_departments = list_departments(session, within=principal.jurisdiction)
    try:
        filters = _filters(params, principal=principal, halls=halls, departments=all_departments)
        number = parse_positive(page, label="页码", default=1, maximum=MAX_PAGE)
        size = parse_positive(
            page_size, label="每页条数", default=DEFAULT_PAGE_SIZE, maximum=settings.page_size_max
        )
    except PageError as error:
        return error_page(request, error, nav="ledger")
    today = shanghai_date(now)
    result = list_ledger(session, filters=filters, today=today, page=number, page_size=size)
    query = filter_query(filters)
    paging = {**query, **({"page_size": str(size)} if size != DEFAULT_PAGE_SIZE else {})}
    context: dict[str, Any] = {
        "nav": "ledger",
        "principal": principal,
        "query": query,
        "page_size": paging.get("page_size"),
        "halls": halls,
        "departments": [
            d for d in all_departments if not filters.hall_code or d.hall_code == filters.hall_code
        ],
        "colors": COLOR_LABELS,
        "statuses": SIGNAL_STATUS_LABELS,
        "result": result,
        **pager("/console/ledger", paging, page=number, total=result.total, page_size=size),
        "has_filters": bool(query),
        "csv_url": f"{EXPORT_URL}?" + urlencode({**query, "format": "csv"}),
        "xlsx_url": f"{EXPORT_URL}?" + urlencode({**query, "format": "xlsx"}),
    }
    return render(request, "ledger.html", context)
