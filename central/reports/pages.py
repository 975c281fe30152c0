"""The console page of the monthly report (电子监察月报): choose a month and a scope of your jurisdiction,
read the report (the same template the PDF is made from) and download its PDF (the API's audited
download). Bad parameters get a Chinese error page, never a 500 or the API's JSON."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.console_session import PagePrincipal
from central.core.clock import shanghai_date
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.registry.models import Hall, Region
from central.reports.charts import ChartFontMissing
from central.reports.period import DEPLOYMENT_NAME, ReportInputError
from central.reports.render import page_context
from central.reports.router import resolve
from central.reports.service import report_for_reading
from central.web.forms import PageError, parse_text
from central.web.templating import error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

LEVEL_LABELS = {"province": "省", "city": "市", "county": "县（区）"}
ERROR_TITLES = {404: "未找到", 422: "请求参数有误"}


def scope_choices(session: Session, within: Jurisdiction) -> list[tuple[str, str]]:
    """(scope code, label) of every scope the caller may read: their own and everything below."""
    choices: list[tuple[str, str]] = []
    if within.kind is ScopeKind.DEPARTMENT:  # a report covers a hall at least
        return choices
    if within.kind is ScopeKind.DEPLOYMENT:
        choices.append(("*", DEPLOYMENT_NAME))
    regions = select(Region.code, Region.name, Region.level).order_by(Region.code)
    halls = select(Hall.code, Hall.name).order_by(Hall.code)
    if within.kind is not ScopeKind.DEPLOYMENT:
        regions = regions.where(Region.id.in_(sorted(within.region_ids)))
        halls = halls.where(Hall.id.in_(sorted(within.hall_ids)))
    if within.kind in (ScopeKind.DEPLOYMENT, ScopeKind.REGION):
        choices += [
            (code, f"{LEVEL_LABELS.get(level, level)} · {name}（{code}）")
            for code, name, level in session.execute(regions)
        ]
    choices += [(code, f"大厅 · {name}（{code}）") for code, name in session.execute(halls)]
    return choices


@router.get("/console/reports/monthly", response_class=HTMLResponse)
def monthly_report_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    month: str | None = None,
    scope: str | None = None,
) -> HTMLResponse:
    """电子监察月报: the month's report for a scope of the caller's jurisdiction."""
    today = shanghai_date(now)
    try:
        month_text = parse_text(month, label="月份", max_length=20)
        scope_text = parse_text(scope, label="辖区", max_length=80)
        wanted, within = resolve(session, principal, month=month_text, scope=scope_text, today=today)
        data, stored = report_for_reading(
            session, month=wanted, scope=within, now=now, default_profile=settings.rule_profile
        )
        charts = page_context(data)
    except PageError as error:
        return error_page(request, error, nav="reports")
    except ReportInputError as exc:
        title = ERROR_TITLES.get(exc.status_code, "请求参数有误")
        return error_page(request, PageError(exc.status_code, title, exc.zh), nav="reports")
    except ChartFontMissing as exc:
        logger.error("monthly report page: %s", exc)
        return error_page(
            request,
            PageError(503, "无法生成图表", "服务器缺少中文字体（fonts-noto-cjk），请联系系统管理员。"),
            nav="reports",
        )
    query = {"month": data.month, "scope": data.scope_code}
    context: dict[str, Any] = {
        "nav": "reports",
        "principal": principal,
        **charts,
        "stored": stored,
        "scopes": scope_choices(session, principal.jurisdiction),
        "scope_value": data.scope_code,
        "latest_month": today.strftime("%Y-%m"),
        "json_url": "/api/v1/reports/monthly?" + urlencode(query),
    }
    return render(request, "monthly_report.html", context)


__all__ = ["router", "scope_choices"]
