"""Console pages (zh-CN) for video supervision: the halls of one's jurisdiction, and one hall's
windows — state now (在岗/离岗/未知/摄像机离线), the day's timeline, hourly visitor counts beside the
cases recorded, and the day's absences with 确认 / 排除 forms and evidence (SC-18: a thumbnail only
with an approved grant, otherwise a 申请查看 form that files an evidence_view approval request).

Forms post with the session cookie and carry the per-session form token, checked app-wide
(central/access/csrf.py). Bad parameters get a Chinese page, never a 500.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from central.access.console_session import PagePrincipal
from central.access.deps import Principal
from central.access.roles import Permission
from central.approvals.evidence import VIEW
from central.approvals.kinds import ApprovalError
from central.approvals.service import create_request
from central.core.clock import shanghai_date
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.profiles.assignment import profile_for_hall
from central.registry.models import Hall
from central.video.errors import VideoError
from central.video.evidence import visible_evidence
from central.video.labels import ABSENCE_STATUS_LABELS, EVIDENCE_REASON_LABELS, WINDOW_STATE_LABELS
from central.video.page_data import duration_text, hall_page_context, hm, seconds_text
from central.video.queries import find_hall, video_halls
from central.video.review import confirm_absence, dismiss_absence, visible_absence
from central.web.forms import PageError, parse_day
from central.web.templating import PageTemplates, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

TEMPLATES = PageTemplates(
    folder=Path(__file__).parent / "templates",
    globals={
        "absence_status_labels": ABSENCE_STATUS_LABELS,
        "evidence_reason_labels": EVIDENCE_REASON_LABELS,
        "window_state_labels": WINDOW_STATE_LABELS,
    },
    filters={"duration_text": duration_text, "hm": hm, "seconds_text": seconds_text},
)
FormText = Annotated[str, Form()]
MAX_ID = 2**62
STATE_CLASSES = {
    "present": "badge-ok",
    "seat_empty": "badge-warn",
    "off_hours": "badge-grey",
    "absent": "badge-red",
    "unknown": "badge-grey",
    "camera_offline": "badge-late",
}


def _error(request: Request, error: PageError) -> HTMLResponse:
    return error_page(request, error, nav="video")


def _from_video(exc: VideoError) -> PageError:
    titles = {403: "无权操作", 404: "未找到", 409: "无法执行", 410: "已删除", 422: "填写有误"}
    return PageError(exc.status_code, titles.get(exc.status_code, "请求有误"), exc.zh)


def _reader_refused(request: Request, principal: Principal) -> HTMLResponse | None:
    if principal.may(Permission.SIGNALS_SUPERVISE) or principal.may(Permission.SIGNALS_RESPOND):
        return None
    message = "您的角色无权查看视频监察信息（须为电子监察员、系统监管员或岗位用户）。"
    return _error(request, PageError(403, "无权访问", message))


def _item_id(value: str, what: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 19 or not 1 <= int(value) <= MAX_ID:
        raise PageError(404, "未找到", f"没有编号为“{value[:40]}”的{what}，或不在您的辖区内。")
    return int(value)


@router.get("/console/video", response_class=HTMLResponse)
def halls_page(request: Request, principal: PagePrincipal, session: SessionDep, now: NowDep) -> HTMLResponse:
    """视频监察: the halls of the jurisdiction with windows, cameras offline and absences to review."""
    if (refused := _reader_refused(request, principal)) is not None:
        return refused
    context: dict[str, Any] = {
        "nav": "video",
        "principal": principal,
        "halls": video_halls(session, within=principal.jurisdiction, now=now),
    }
    return render(request, "video_halls.html", context)


def render_hall(
    request: Request,
    *,
    hall_code: str,
    day_text: str | None,
    principal: Principal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if (refused := _reader_refused(request, principal)) is not None:
        return refused
    try:
        hall = find_hall(session, code=hall_code, within=principal.jurisdiction)
        day = parse_day(day_text, label="日期") or shanghai_date(now)
    except VideoError as exc:
        return _error(request, _from_video(exc))
    except PageError as page_error:
        return _error(request, page_error)
    rules = profile_for_hall(session, hall_id=hall.id, default_key=settings.rule_profile).presence
    context: dict[str, Any] = {
        "nav": "video",
        "principal": principal,
        "hall": hall,
        "day": day,
        "today": shanghai_date(now),
        "now": now,
        "error": error,
        "state_classes": STATE_CLASSES,
        **hall_page_context(
            session, hall=hall, principal=principal, day=day, now=now, calendar=calendar, rules=rules
        ),
    }
    return render(request, "video_hall.html", context, status_code=status_code)


@router.get("/console/video/halls/{hall_code}", response_class=HTMLResponse)
def hall_page(
    request: Request,
    hall_code: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    day: str | None = None,
) -> HTMLResponse:
    """One hall: window states, the day's timeline, visitor counts and absences."""
    return render_hall(
        request,
        hall_code=hall_code,
        day_text=day,
        principal=principal,
        session=session,
        settings=settings,
        calendar=calendar,
        now=now,
    )


@router.post("/console/video/absences/{absence_id}/{decision}", response_model=None)
def review_from_form(
    request: Request,
    absence_id: str,
    decision: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    note: FormText = "",
) -> Response:
    """确认 (raises a signal) or 排除 (with a reason) one absence; back to its hall and day."""
    try:
        number = _item_id(absence_id, "离岗事件")
        if decision not in ("confirm", "dismiss"):
            raise PageError(404, "未找到", "没有这个操作。")
        absence = visible_absence(session, absence_id=number, principal=principal)
    except PageError as page_error:
        return _error(request, page_error)
    except VideoError as exc:
        return _error(request, _from_video(exc))
    hall_code = _hall_code(session, absence.hall_id)
    day = shanghai_date(absence.started_at).isoformat()
    try:
        if decision == "confirm":
            confirm_absence(
                session,
                absence_id=number,
                principal=principal,
                note=note,
                now=now,
                calendar=calendar,
                default_profile=settings.rule_profile,
            )
        else:
            dismiss_absence(session, absence_id=number, principal=principal, note=note, now=now)
    except VideoError as exc:
        session.rollback()
        return render_hall(
            request,
            hall_code=hall_code,
            day_text=day,
            principal=principal,
            session=session,
            settings=settings,
            calendar=calendar,
            now=now,
            error=exc.zh,
            status_code=exc.status_code,
        )
    session.commit()
    return RedirectResponse(
        f"/console/video/halls/{quote(hall_code, safe='')}?day={day}#absence-{number}", status_code=303
    )


def _hall_code(session: SessionDep, hall_id: int) -> str:
    hall = session.get(Hall, hall_id)
    assert hall is not None
    return hall.code


@router.post("/console/video/evidence/{evidence_id}/request", response_model=None)
def request_view(
    request: Request,
    evidence_id: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    reason: FormText = "",
) -> Response:
    """申请查看: an evidence_view approval request (SC-18); its approval page follows."""
    try:
        number = _item_id(evidence_id, "证据")
        evidence = visible_evidence(session, evidence_id=number, within=principal.jurisdiction)
    except PageError as page_error:
        return _error(request, page_error)
    except VideoError as exc:
        return _error(request, _from_video(exc))
    text = reason.strip() or f"核实离岗事件，查看证据快照 #{number}"
    try:
        approval = create_request(
            session,
            requester=principal,
            kind=VIEW,
            target=str(evidence.id),
            payload={},
            reason=text[:2000],
            now=now,
            calendar=calendar,
            default_profile_key=settings.rule_profile,
        )
    except ApprovalError as exc:
        session.rollback()
        return _error(request, PageError(exc.status_code, "无法申请", exc.zh or exc.detail))
    return RedirectResponse(f"/console/approvals/{approval.id}", status_code=303)


__all__ = ["router"]
