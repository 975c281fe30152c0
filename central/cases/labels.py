"""What the case pages show a person and read from them: Chinese labels of case statuses, events
and lights, the markers beside a light, and the case-number parameter.

Code and API values stay English (DESIGN: conventions); only the pages translate them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from central.cases.clock import Light
from central.cases.lifecycle import CLOSED_STATUSES, CaseStatus, EventType
from central.cases.queries import CaseFilters
from central.cases.schemas import CODE, CaseSummary
from central.web.forms import bad_parameter, parse_text

logger = logging.getLogger(__name__)

STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.RECEIVED: "已收件",
    CaseStatus.ACCEPTED: "已受理",
    CaseStatus.UNDERTAKEN: "承办中",
    CaseStatus.REVIEWED: "已审核",
    CaseStatus.APPROVED: "已批准",
    CaseStatus.SUSPENDED: "暂停(特别程序)",
    CaseStatus.AWAITING_CORRECTION: "待补正",
    CaseStatus.COMPLETED: "已办结",
    CaseStatus.REFUSED_ACCEPTANCE: "不予受理",
    CaseStatus.REFUSED: "不予批准",
    CaseStatus.REVOKED: "已撤销",
}

EVENT_LABELS: dict[EventType, str] = {
    EventType.RECEIVED: "收件",
    EventType.ACCEPTED: "受理",
    EventType.UNDERTAKEN: "承办",
    EventType.REVIEWED: "审核",
    EventType.APPROVED: "批准",
    EventType.COMPLETED: "办结",
    EventType.REFUSED_ACCEPTANCE: "不予受理",
    EventType.REFUSED: "不予批准",
    EventType.CORRECTION_REQUESTED: "补正告知",
    EventType.CORRECTION_RECEIVED: "补正材料收讫",
    EventType.SUSPENDED: "暂停(特别程序)",
    EventType.RESUMED: "恢复计时",
    EventType.EXTENDED: "延期",
    EventType.REVOKED: "撤销",
}

LIGHT_LABELS: dict[Light, str] = {Light.GREEN: "绿灯", Light.YELLOW: "黄灯", Light.RED: "红灯"}


@dataclass(frozen=True)
class Badge:
    """A short marker beside the light; `kind` picks its colour in console.css."""

    kind: str
    text: str


def status_label(status: CaseStatus | str) -> str:
    return STATUS_LABELS.get(CaseStatus(status), str(status))


def event_label(kind: EventType | str) -> str:
    return EVENT_LABELS.get(EventType(kind), str(kind))


def light_label(light: Light | str | None) -> str:
    return LIGHT_LABELS[Light(light)] if light else ""


def no_light_text(case: CaseSummary) -> str:
    """Why a case shows no light: closed, not yet accepted, or its calendar year is missing."""
    if case.calendar_missing:
        return "无法计算"
    if case.status in CLOSED_STATUSES:
        return "已结束"
    if case.accepted_on is None:
        return "未起算"
    return "—"


def remaining_text(case: CaseSummary) -> str:
    """剩余工作日 as a person reads it: a number, 今日到期, or 超期 N (working days past due)."""
    remaining = case.remaining_working_days
    if remaining is None:
        return "—"
    if remaining < 0:
        return f"超期 {-remaining}"
    if case.light is Light.RED:  # past due on a non-working day: nothing counted yet
        return "已超期"
    if remaining == 0:
        return "今日到期"
    return str(remaining)


def badges(case: CaseSummary) -> list[Badge]:
    found: list[Badge] = []
    if case.green_warning:
        found.append(Badge("green", "绿色预警"))
    if case.legal_overdue:
        found.append(Badge("red", "法定超期"))
    if case.calendar_missing:
        years = "、".join(str(y) for y in case.missing_years)
        found.append(Badge("grey", f"日历缺失（{years}）" if years else "日历缺失"))
    if case.finished_on_time is True:
        found.append(Badge("ok", "按期办结"))
    elif case.finished_on_time is False:
        found.append(Badge("late", "超期办结"))
    return found


CASE_NO = re.compile(CODE)  # as the event API stores them
CASE_NO_PREFIX = re.compile(r"[A-Za-z0-9_.\-]+")


def parse_case_no_prefix(value: str | None) -> str | None:
    prefix = parse_text(value, label="办件编号", max_length=64)
    if prefix and not CASE_NO_PREFIX.fullmatch(prefix):
        raise bad_parameter(f"办件编号“{prefix}”含有不允许的字符：只能有字母、数字、点、横线和下划线。")
    return prefix


def filters_query(filters: CaseFilters, *, page_size: int, default_page_size: int) -> dict[str, str]:
    """The filters as query parameters (empty ones left out), for paging links and the form."""
    pairs = {
        "hall": filters.hall_code,
        "department": filters.department_code,
        "light": filters.light.value if filters.light else None,
        "status": filters.status.value if filters.status else None,
        "accepted_from": filters.accepted_from.isoformat() if filters.accepted_from else None,
        "accepted_to": filters.accepted_to.isoformat() if filters.accepted_to else None,
        "case_no": filters.case_no_prefix,
        "page_size": str(page_size) if page_size != default_page_size else None,
    }
    return {key: value for key, value in pairs.items() if value}


# Available to every console template, both as filters and as functions (see cases.pages).
TEMPLATE_HELPERS: dict[str, Callable[..., Any]] = {
    "status_label": status_label,
    "event_label": event_label,
    "light_label": light_label,
    "no_light_text": no_light_text,
    "remaining_text": remaining_text,
    "badges": badges,
}
