"""Console pages (zh-CN) of the published scores (issue 17 items 2 and 4, SZ-19): 绩效得分 of a hall, a
region or the whole jurisdiction (the day's rankings of halls, departments and staff, the trend by day,
the dimension breakdown), one subject's month with every point explained and the earlier figures a
recomputation replaced, and a member of staff's own page (`/console/scores/me`).

Parameters arrive as plain strings and are checked here, so bad input gets a Chinese 400/404 page,
never a 500 or the API's JSON.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from central.access.console_session import PagePrincipal
from central.access.deps import Principal
from central.access.models import User
from central.core.clock import shanghai_date
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.registry.document import CODE_PATTERN, REGION_CODE_PATTERN
from central.scores.queries import (
    ScoreLookupError,
    Selection,
    last_scored_day,
    ranking,
    resolve_selection,
    scheme_out,
    selectable_places,
    selection_breakdown,
    selection_trend,
    unscored_halls,
)
from central.scores.schemas import MONTH_PATTERN, DimensionOut
from central.scores.subject_queries import (
    LEVEL_NAMES_ZH,
    Subject,
    default_month,
    find_subject,
    staff_subject,
    subject_month,
)
from central.scores.trend_chart import score_trend_svg
from central.web.forms import PageError, bad_parameter, parse_day, parse_positive
from central.web.templating import PageTemplates, error_page, render
from common.profiles.scoring import SCORE_LEVELS, ScoreLevel

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
RANKED_LEVELS: tuple[ScoreLevel, ...] = ("hall", "department", "staff")
_HALL_CODE = re.compile(CODE_PATTERN)
_REGION_CODE = re.compile(REGION_CODE_PATTERN)
_MONTH = re.compile(MONTH_PATTERN)


def _number(value: float | None) -> str:
    """A score as people write it: at most two decimals, no trailing zeros (95.5, 100)."""
    if value is None:
        return "—"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _points(value: float) -> str:
    """Signed, with the minus sign the explanations use (+1, −10)."""
    text = _number(abs(value))
    return "0" if text == "0" else ("+" if value > 0 else "−") + text


def subject_url(level: str, code: str) -> str:
    return f"/console/scores/{level}/{quote(code, safe=':')}"


TEMPLATES = PageTemplates(
    folder=Path(__file__).parent / "templates",
    globals={"score_level_names": LEVEL_NAMES_ZH, "score_subject_url": subject_url},
    filters={"score_number": _number, "score_points": _points},
)


def _error(request: Request, error: PageError) -> HTMLResponse:
    return error_page(request, error, nav="scores")


def _lookup_error(exc: ScoreLookupError) -> PageError:
    return PageError(exc.status_code, "未找到" if exc.status_code == 404 else "请求参数有误", exc.zh)


def _place(at: str | None, hall: str | None, region: str | None) -> tuple[str | None, str | None]:
    """(hall code, region code) from the page's selector (`at` = hall:CODE or region:CODE) or from
    `hall=` / `region=` as the API takes them."""
    at = (at or "").strip()
    if at:
        kind, _, code = at.partition(":")
        if kind == "hall":
            hall, region = code, None
        elif kind == "region":
            hall, region = None, code
        elif at == "*":
            hall, region = None, None
        else:
            raise bad_parameter(f"范围参数无效：“{at[:40]}”，应为 hall:大厅代码 或 region:地区代码。")
    hall, region = (hall or "").strip() or None, (region or "").strip() or None
    if hall and region:
        raise bad_parameter("大厅与地区只能选择其一。")
    if hall and (len(hall) > 40 or not _HALL_CODE.fullmatch(hall)):
        raise bad_parameter(f"大厅代码无效：“{hall[:40]}”。")
    if region and not _REGION_CODE.fullmatch(region):
        raise bad_parameter(f"地区代码无效：“{region[:40]}”，应为 6 位数字。")
    return hall, region


def _dimension_columns(tables: list[dict[str, Any]]) -> list[DimensionOut]:
    """The dimensions of every scheme in the tables, in scheme order, each code once."""
    seen: dict[str, DimensionOut] = {}
    keys = sorted({row.profile_key for table in tables for row in table["rows"]})
    for key in keys:
        for dimension in scheme_out(key).dimensions:
            seen.setdefault(dimension.code, dimension)
    return list(seen.values())


def _table(
    session: Session, *, level: ScoreLevel, day: date, selection: Selection, page: int, query: dict[str, str]
) -> dict[str, Any]:
    total, rows = ranking(session, level=level, day=day, selection=selection, page=page, page_size=PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))

    def url(target: int) -> str:
        return "/console/scores?" + urlencode({**query, f"{level}_page": str(target)}) + f"#rank-{level}"

    return {
        "level": level,
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "prev_url": url(page - 1) if page > 1 else None,
        "next_url": url(page + 1) if page < pages else None,
    }


def _own_staff_id(session: Session, principal: Principal) -> int | None:
    user = session.get(User, principal.user_id)
    return user.staff_id if user is not None else None


@router.get("/console/scores", response_class=HTMLResponse)
def scores_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    at: str | None = None,
    hall: str | None = None,
    region: str | None = None,
    day: str | None = None,
    hall_page: str | None = None,
    department_page: str | None = None,
    staff_page: str | None = None,
) -> HTMLResponse:
    """绩效得分: the selection's rankings, trend and dimensions on a day (the last scored by default)."""
    try:
        hall_code, region_code = _place(at, hall, region)
        asked_day = parse_day(day, label="日期")
        pages = {
            level: parse_positive(value, label="页码", default=1, maximum=1_000_000)
            for level, value in zip(RANKED_LEVELS, (hall_page, department_page, staff_page), strict=True)
        }
        selection = resolve_selection(
            session, within=principal.jurisdiction, hall_code=hall_code, region_code=region_code
        )
    except PageError as error:
        return _error(request, error)
    except ScoreLookupError as exc:
        return _error(request, _lookup_error(exc))
    shown_day = asked_day or last_scored_day(session, selection=selection)
    at_value = "*" if selection.kind == "deployment" else f"{selection.kind}:{selection.code}"
    query = {"at": at_value, **({"day": shown_day.isoformat()} if shown_day else {})}
    several_halls = selection.hall_ids is None or len(selection.hall_ids) > 1
    tables: list[dict[str, Any]] = []
    breakdown, chart = [], None
    if shown_day is not None:
        levels = RANKED_LEVELS if several_halls else RANKED_LEVELS[1:]
        tables = [
            _table(session, level=level, day=shown_day, selection=selection, page=pages[level], query=query)
            for level in levels
        ]
        breakdown = selection_breakdown(session, selection=selection, day=shown_day)
        trend = selection_trend(session, selection=selection, day=shown_day)
        if trend:
            total = max((b.scheme.total for b in breakdown), default=100.0)
            chart = score_trend_svg(
                trend,
                month=shown_day.strftime("%Y-%m"),
                total=total,
                label=f"{selection.name} {shown_day.strftime('%Y-%m')} 每日得分趋势",
            )
    context: dict[str, Any] = {
        "nav": "scores",
        "principal": principal,
        "selection": selection,
        "several_halls": several_halls,
        "places": selectable_places(session, within=principal.jurisdiction),
        "at": at_value,
        "day": shown_day,
        "asked_day": asked_day,
        "tables": tables,
        "columns": _dimension_columns(tables),
        "breakdown": breakdown,
        "chart": chart,
        "unscored": unscored_halls(session, selection=selection, default_key=settings.rule_profile),
        "own_staff": _own_staff_id(session, principal) is not None,
    }
    return render(request, "scores.html", context)


def _month(value: str | None) -> str | None:
    value = (value or "").strip()
    if value and not _MONTH.fullmatch(value):
        raise bad_parameter(f"月份格式无效：“{value[:40]}”，应为 YYYY-MM，例如 2026-11。")
    return value or None


def _subject_page(
    request: Request,
    *,
    session: Session,
    principal: Principal,
    subject: Subject,
    month: str | None,
    today: date,
    default_key: str,
    own: bool,
) -> HTMLResponse:
    shown = month or default_month(session, subject=subject, today=today)
    data = subject_month(session, subject=subject, month=shown, default_key=default_key)
    chart = None
    if data.trend and data.total:
        chart = score_trend_svg(
            data.trend,
            month=shown,
            total=data.total,
            earlier=[(e.day, e.month_score) for e in data.earlier],
            label=f"{subject.name} {shown} 每日得分趋势",
        )
    context: dict[str, Any] = {
        "nav": "scores",
        "principal": principal,
        "data": data,
        "chart": chart,
        "own": own,
        "page_url": "/console/scores/me" if own else subject_url(subject.level, subject.code),
    }
    return render(request, "score_subject.html", context)


@router.get("/console/scores/me", response_class=HTMLResponse)
def my_scores_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    month: str | None = None,
) -> HTMLResponse:
    """我的得分: the signed-in member of staff's own month, every point explained (issue 17 item 2)."""
    try:
        shown = _month(month)
    except PageError as error:
        return _error(request, error)
    staff_id = _own_staff_id(session, principal)
    subject = staff_subject(session, staff_id=staff_id) if staff_id is not None else None
    if subject is None:
        return render(request, "score_no_staff.html", {"nav": "scores", "principal": principal})
    return _subject_page(
        request,
        session=session,
        principal=principal,
        subject=subject,
        month=shown,
        today=shanghai_date(now),
        default_key=settings.rule_profile,
        own=True,
    )


@router.get("/console/scores/{level}/{code}", response_class=HTMLResponse)
def subject_page(
    request: Request,
    level: str,
    code: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    month: str | None = None,
) -> HTMLResponse:
    """One subject's month: trend, dimensions, the explained lines and the earlier figures."""
    try:
        if level not in SCORE_LEVELS:
            allowed = "、".join(f"{name}（{text}）" for name, text in LEVEL_NAMES_ZH.items())
            raise PageError(404, "未找到", f"没有“{level[:40]}”这一层级。可选：{allowed}。")
        shown = _month(month)
        subject = find_subject(session, level=level, code=code, within=principal.jurisdiction)
    except PageError as error:
        return _error(request, error)
    except ScoreLookupError as exc:
        return _error(request, _lookup_error(exc))
    return _subject_page(
        request,
        session=session,
        principal=principal,
        subject=subject,
        month=shown,
        today=shanghai_date(now),
        default_key=settings.rule_profile,
        own=False,
    )


__all__ = ["TEMPLATES", "router"]
