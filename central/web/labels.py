"""What the console pages show a person: Chinese labels and Shanghai-time formatting.

Code and API values stay English (DESIGN: conventions); only the pages translate them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from central.cases.clock import Light
from central.cases.lifecycle import CLOSED_STATUSES, CaseStatus, EventType
from central.cases.schemas import CaseSummary
from central.core.clock import SHANGHAI, ensure_aware

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


def shanghai_time(moment: datetime | None) -> str:
    """YYYY-MM-DD HH:MM in Asia/Shanghai (RULES: times are shown in Shanghai time)."""
    if moment is None:
        return "—"
    return ensure_aware(moment).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def shanghai_input_value(moment: datetime) -> str:
    """The value of a datetime-local input: Shanghai wall time, to the minute."""
    return ensure_aware(moment).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def day_text(day: date | None) -> str:
    return day.isoformat() if day else "—"


# Available to every console template, both as filters and as functions.
TEMPLATE_HELPERS: dict[str, Callable[..., Any]] = {
    "status_label": status_label,
    "event_label": event_label,
    "light_label": light_label,
    "no_light_text": no_light_text,
    "remaining_text": remaining_text,
    "badges": badges,
    "shanghai_time": shanghai_time,
    "day_text": day_text,
}


__all__ = [
    "EVENT_LABELS",
    "LIGHT_LABELS",
    "STATUS_LABELS",
    "TEMPLATE_HELPERS",
    "Badge",
    "badges",
    "event_label",
    "light_label",
    "remaining_text",
    "shanghai_input_value",
    "shanghai_time",
    "status_label",
]
