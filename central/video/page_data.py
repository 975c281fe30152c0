"""What the hall's video page shows, gathered from the queries: window states, the day's timeline
as SVG, hourly visitor counts beside recorded cases, and the day's absences with what the viewer may
do about each one and its evidence (SC-18: a thumbnail only with an approved grant)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.roles import Permission
from central.approvals.evidence import EXPORT, VIEW
from central.approvals.kinds import ApprovalStatus
from central.approvals.models import ApprovalRequest
from central.core.clock import SHANGHAI
from central.registry.models import Hall
from central.video.absence_queries import AbsenceFilters, list_absences
from central.video.evidence import may_view
from central.video.labels import AbsenceStatus
from central.video.queries import day_bounds, day_timeline, window_states
from central.video.schedule import break_spans, working_span
from central.video.schemas import AbsenceOut, EvidenceRef, VisitorsBy
from central.video.timeline import Segment, TimelineRow, display_span, timeline_svg
from central.video.visitor_queries import dual_track, visitor_counts
from common.profiles.schema import PresenceRules
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

MAX_ABSENCES = 200


@dataclass
class VisitorTable:
    hours: list[int]  # the hours of the day shown as columns
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class EvidenceView:
    ref: EvidenceRef
    viewable: bool  # an approved grant: show the thumbnail
    pending_request: int | None  # an approval request of the viewer's still waiting


@dataclass(frozen=True)
class AbsenceView:
    absence: AbsenceOut
    evidence: list[EvidenceView]
    may_review: bool


def hall_page_context(
    session: Session,
    *,
    hall: Hall,
    principal: Principal,
    day: date,
    now: datetime,
    calendar: WorkCalendar,
    rules: PresenceRules,
) -> dict[str, Any]:
    within = principal.jurisdiction
    states = window_states(session, hall=hall, within=within, now=now, calendar=calendar, rules=rules)
    timeline = day_timeline(session, hall=hall, within=within, day=day, now=now)
    span = display_span(working_span(rules))
    rows = [
        TimelineRow(
            label=w.name, code=w.code, segments=[Segment(s.kind, s.start, s.end, s.open) for s in w.segments]
        )
        for w in timeline.windows
    ]
    svg = timeline_svg(
        rows,
        day_start=day_bounds(day)[0],
        span=span,
        breaks=break_spans(rules),
        label=f"{hall.name} {day.isoformat()} 窗口在岗时间轴",
    )
    return {
        "states": states,
        "timeline": timeline,
        "timeline_svg": svg,
        "visitors": _visitor_table(
            session, hall=hall, principal=principal, day=day, span=(span[0] // 60, span[1] // 60)
        ),
        "absences": _absences(session, hall=hall, principal=principal, day=day, now=now),
    }


def _visitor_table(
    session: Session, *, hall: Hall, principal: Principal, day: date, span: tuple[int, int]
) -> VisitorTable:
    """Windows × hours of the day, with the day's total, recorded cases and the difference."""
    counts = visitor_counts(
        session, hall=hall, within=principal.jurisdiction, date_from=day, date_to=day, by=VisitorsBy.HOUR
    )
    checks = {
        r.window_code: r
        for r in dual_track(session, hall=hall, within=principal.jurisdiction, date_from=day, date_to=day)
    }
    by_window: dict[str, dict[int, int]] = {}
    names: dict[str, str] = {}
    hours = set(range(span[0], span[1]))
    for row in counts:
        assert row.hour_start is not None
        hour = row.hour_start.astimezone(SHANGHAI).hour
        hours.add(hour)
        by_window.setdefault(row.window_code, {})[hour] = row.visits
        names[row.window_code] = row.window_name
    for code, found in checks.items():
        names.setdefault(code, found.window_name)
    table = VisitorTable(hours=sorted(hours))
    for code in sorted(names):
        check = checks.get(code)
        table.rows.append(
            {
                "code": code,
                "name": names[code],
                "hours": by_window.get(code, {}),
                "visits": check.visits_counted if check else None,
                "cases": check.cases_recorded if check else 0,
                "difference": check.difference if check else None,
            }
        )
    return table


def _absences(
    session: Session, *, hall: Hall, principal: Principal, day: date, now: datetime
) -> list[AbsenceView]:
    filters = AbsenceFilters(within=principal.jurisdiction, hall_code=hall.code, date_from=day, date_to=day)
    page = list_absences(session, filters=filters, page=1, page_size=MAX_ABSENCES, now=now)
    ids = [ref.id for item in page.items for ref in item.evidence]
    pending = pending_evidence_requests(session, principal=principal, evidence_ids=ids)
    supervise = principal.may(Permission.SIGNALS_SUPERVISE)
    return [
        AbsenceView(
            absence=item,
            evidence=[
                EvidenceView(
                    ref=ref,
                    viewable=not ref.gone
                    and may_view(session, evidence_id=ref.id, principal=principal, now=now),
                    pending_request=pending.get(ref.id),
                )
                for ref in item.evidence
            ],
            may_review=supervise and item.status is AbsenceStatus.PENDING,
        )
        for item in page.items
    ]


def pending_evidence_requests(
    session: Session, *, principal: Principal, evidence_ids: list[int]
) -> dict[int, int]:
    """evidence id → the viewer's own evidence view/export request still waiting for approval."""
    if not evidence_ids:
        return {}
    rows = session.execute(
        select(ApprovalRequest.target_id, ApprovalRequest.id).where(
            ApprovalRequest.kind.in_([VIEW, EXPORT]),
            ApprovalRequest.status == ApprovalStatus.PENDING.value,
            ApprovalRequest.requested_by_id == principal.user_id,
            ApprovalRequest.target_id.in_([str(i) for i in evidence_ids]),
        )
    )
    return {int(target): request_id for target, request_id in rows}


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "未结束"
    minutes = round(seconds / 60)
    return f"{minutes // 60} 小时 {minutes % 60} 分" if minutes >= 60 else f"{minutes} 分钟"


def hm(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%H:%M") if moment else "—"


def seconds_text(seconds: float) -> str:
    return duration_text(seconds) if seconds else "—"


__all__ = [
    "AbsenceView",
    "EvidenceView",
    "VisitorTable",
    "duration_text",
    "hall_page_context",
    "hm",
    "pending_evidence_requests",
    "seconds_text",
]
