"""Console pages (zh-CN): 双轨运行研判 — a day's judgements in one's jurisdiction with the counts by
hour, and one judgement with its rule, hours and the window's snapshots (SC-18: a thumbnail only
with an approved grant, otherwise a 申请查看 form that files an evidence_view request through the
video pages' form). Bad parameters get a Chinese page, never a 500."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from central.access.console_session import PagePrincipal
from central.access.deps import Principal
from central.access.roles import Permission
from central.core.clock import shanghai_date
from central.core.deps import NowDep, SessionDep
from central.dualtrack.labels import METHOD_LABELS, OUTCOME_CLASSES, OUTCOME_LABELS, SOURCE_LABELS
from central.dualtrack.queries import JudgementFilters, day_counts, get_judgement, latest_day, list_judgements
from central.dualtrack.rule import Outcome
from central.registry.models import Hall
from central.video.evidence import may_view
from central.video.page_data import EvidenceView, pending_evidence_requests
from central.video.queries import hall_clause
from central.web.forms import PageError, parse_choice, parse_day, parse_positive, parse_text
from central.web.paging import pager
from central.web.templating import PageTemplates, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

TEMPLATES = PageTemplates(
    folder=Path(__file__).parent / "templates",
    globals={
        "dualtrack_outcome_labels": OUTCOME_LABELS,
        "dualtrack_outcome_classes": OUTCOME_CLASSES,
        "dualtrack_source_labels": SOURCE_LABELS,
        "dualtrack_method_labels": METHOD_LABELS,
    },
)
PAGE_SIZE = 50
MAX_ID = 2**62


def _refused(request: Request, principal: Principal) -> HTMLResponse | None:
    if principal.may(Permission.SIGNALS_SUPERVISE) or principal.may(Permission.SIGNALS_RESPOND):
        return None
    message = "您的角色无权查看双轨运行研判（须为电子监察员、系统监管员或岗位用户）。"
    return error_page(request, PageError(403, "无权访问", message), nav="video")


@router.get("/console/dualtrack", response_class=HTMLResponse)
def judgements_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    now: NowDep,
    day: str | None = None,
    hall: str | None = None,
    outcome: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    """双轨运行研判: one day's windows, flagged first, with visitors and cases by hour."""
    if (refused := _refused(request, principal)) is not None:
        return refused
    within = principal.jurisdiction
    try:
        chosen = parse_day(day, label="日期")
        hall_code = parse_text(hall, label="大厅", max_length=40)
        kind = parse_choice(
            outcome, kind=Outcome, labels={o: OUTCOME_LABELS[o] for o in Outcome}, label="结论"
        )
        number = parse_positive(page, label="页码", default=1, maximum=1_000_000)
    except PageError as error:
        return error_page(request, error, nav="video")
    shown = chosen or latest_day(session, within=within) or shanghai_date(now) - timedelta(days=1)
    filters = JudgementFilters(within=within, day=shown, hall_code=hall_code, outcome=kind)
    result = list_judgements(session, filters=filters, page=number, page_size=PAGE_SIZE, now=now)
    query = {k: v for k, v in {"day": shown.isoformat(), "hall": hall_code, "outcome": outcome}.items() if v}
    context: dict[str, Any] = {
        "nav": "video",
        "principal": principal,
        "day": shown,
        "result": result,
        "counts": day_counts(session, within=within, day=shown),
        "hours": sorted({h.hour for item in result.items for h in item.hours}),
        "halls": session.execute(
            select(Hall.code, Hall.name).where(hall_clause(within)).order_by(Hall.code)
        ).all(),
        "query": {"hall": hall_code or "", "outcome": outcome or ""},
        "has_filters": bool(hall_code or kind),
        **pager("/console/dualtrack", query, page=number, total=result.total, page_size=PAGE_SIZE),
    }
    return render(request, "dualtrack_list.html", context)


@router.get("/console/dualtrack/judgements/{judgement_id}", response_class=HTMLResponse)
def judgement_page(
    request: Request, judgement_id: str, principal: PagePrincipal, session: SessionDep, now: NowDep
) -> HTMLResponse:
    """One judgement: the rule's numbers, the hours, the signal and the evidence (SC-18)."""
    if (refused := _refused(request, principal)) is not None:
        return refused
    digits = judgement_id.isascii() and judgement_id.isdigit() and len(judgement_id) <= 19
    found = None
    if digits and 1 <= int(judgement_id) <= MAX_ID:
        found = get_judgement(session, judgement_id=int(judgement_id), within=principal.jurisdiction, now=now)
    if found is None:
        message = f"没有编号为“{judgement_id[:40]}”的双轨运行研判，或不在您的辖区内。"
        return error_page(request, PageError(404, "未找到", message), nav="video")
    pending = pending_evidence_requests(
        session, principal=principal, evidence_ids=[e.id for e in found.evidence]
    )
    evidence = [
        EvidenceView(
            ref=ref,
            viewable=not ref.gone and may_view(session, evidence_id=ref.id, principal=principal, now=now),
            pending_request=pending.get(ref.id),
        )
        for ref in found.evidence
    ]
    context: dict[str, Any] = {
        "nav": "video",
        "principal": principal,
        "j": found,
        "evidence": evidence,
    }
    return render(request, "dualtrack_judgement.html", context)


__all__ = ["TEMPLATES", "router"]
