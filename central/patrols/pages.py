"""Console page (zh-CN) of the patrol plan (视频巡查任务, SC-6(1)): my patrols of the day first, then
every patrol of the bodies in my jurisdiction, and the province's draw where I hold the province."""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from central.access.console_session import PagePrincipal
from central.core.clock import shanghai_date
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.patrols.compliance import compliance_month
from central.patrols.compliance_router import month_of
from central.patrols.patrollers import patrol_refusal
from central.patrols.queries import plan_public
from central.patrols.schemas import ComplianceQuery, PatrolTaskPublic
from central.patrols.service import PlanRefused, plan_of_day
from central.patrols.session_queries import task_patrols
from central.web.forms import PageError, parse_day
from central.web.templating import PageTemplates, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

TEMPLATES = PageTemplates(folder=Path(__file__).parent / "templates")
PLAN_TITLES = {409: "无法查看该日计划", 404: "该日没有巡查计划", 503: "巡查计划暂不可用"}


@router.get("/console/patrols", response_class=HTMLResponse)
def patrols_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    date: str | None = None,
) -> HTMLResponse:
    """视频巡查任务: the day's plan (today by default) as my jurisdiction sees it."""
    today = shanghai_date(now)
    try:
        day = parse_day(date, label="日期") or today  # a malformed date says so to anyone: it tells nothing
        if patrol_refusal(principal) is not None:
            raise PageError(
                403,
                "无权查看巡查计划",
                "巡查计划只向监察机构（地区范围）的电子监察员开放，被巡查的大厅与部门不得预知。",
            )
        plan = plan_of_day(
            session,
            day=day,
            today=today,
            calendar=calendar,
            key_file=settings.patrol_key_file,
            default_profile_key=settings.rule_profile,
            now=now,
        )
    except PageError as error:
        return error_page(request, error, nav="patrols")
    except PlanRefused as refused:
        title = PLAN_TITLES.get(refused.status, "无法查看巡查计划")
        return error_page(request, PageError(refused.status, title, str(refused)), nav="patrols")
    context: dict[str, Any] = {
        "nav": "patrols",
        "principal": principal,
        "day": day,
        "today": today,
        "plan": None,
    }
    if plan is not None:
        public = plan_public(session, plan, within=principal.jurisdiction)
        mine = [t for t in public.patrols if t.inspector == principal.username]
        done = task_patrols(session, task_ids=[t.id for t in mine])
        context |= {"plan": public, "mine": mine, "bodies": _by_body(public.patrols), "task_patrols": done}
    return render(request, "patrols.html", context)


def _by_body(patrols: list[PatrolTaskPublic]) -> list[tuple[str, list[PatrolTaskPublic]]]:
    groups: dict[str, list[PatrolTaskPublic]] = defaultdict(list)
    for task in patrols:
        groups[f"{task.body.name}（{task.body.code}）"].append(task)
    return list(groups.items())


@router.get("/console/patrols/compliance", response_class=HTMLResponse)
def compliance_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    now: NowDep,
    month: str | None = None,
) -> HTMLResponse:
    """巡查完成情况: the month's required and done patrols per supervising body."""
    today = shanghai_date(now)
    if patrol_refusal(principal) is not None:
        message = "巡查完成情况只向监察机构（地区范围）的电子监察员开放。"
        return error_page(request, PageError(403, "无权查看巡查完成情况", message), nav="patrols")
    try:
        query = ComplianceQuery(month=month or None)
    except ValidationError:
        return error_page(
            request, PageError(400, "月份格式不正确", "请按 2026-12 的格式选择月份。"), nav="patrols"
        )
    table = compliance_month(
        session, month=month_of(query.month, today), within=principal.jurisdiction, today=today
    )
    return render(
        request, "patrol_compliance.html", {"nav": "patrols", "principal": principal, "table": table}
    )
