"""What every console page reads from a person and shows back: query parameters and form fields
checked with Chinese messages, and times in Shanghai time.

Code and API values stay English (DESIGN: conventions); only the pages translate them. The labels
of one domain's values live with that domain (e.g. `central.cases.labels`).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from central.core.clock import SHANGHAI, ensure_aware
from central.core.types import DATE_RANGE_ZH, DateOutOfRange, check_day, check_moment

logger = logging.getLogger(__name__)


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


# -- reading query parameters, with messages a person can act on -------------------------------
# Pages take their parameters as plain strings and check them here, so a bad one (light=purple,
# page=0) gets a 400 page in Chinese instead of the API's JSON 422.
E = TypeVar("E", bound=StrEnum)


class PageError(Exception):
    """A request the page cannot answer; `message` is shown to the person, in Chinese."""

    def __init__(self, status_code: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.title = title
        self.message = message


def bad_parameter(message: str) -> PageError:
    return PageError(400, "请求参数有误", message)


def parse_text(value: str | None, *, label: str, max_length: int) -> str | None:
    value = (value or "").strip()
    if len(value) > max_length:
        raise bad_parameter(f"{label}过长：最多 {max_length} 个字符。")
    return value or None


def parse_choice(value: str | None, *, kind: type[E], labels: dict[E, str], label: str) -> E | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = "、".join(f"{v.value}（{text}）" for v, text in labels.items())
        raise bad_parameter(f"{label}参数无效：“{value[:40]}”。可选值：{allowed}。") from None


def parse_day(value: str | None, *, label: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise bad_parameter(f"{label}格式无效：“{value[:40]}”，应为 YYYY-MM-DD，例如 2026-10-12。") from None
    try:
        return check_day(day)
    except DateOutOfRange:
        raise bad_parameter(f"{label}超出范围：“{value[:40]}”，{DATE_RANGE_ZH}。") from None


def parse_positive(value: str | None, *, label: str, default: int, maximum: int) -> int:
    value = (value or "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= maximum:
        raise bad_parameter(f"{label}无效：“{value[:40]}”，应为 1 到 {maximum} 之间的整数。")
    return number


def parse_moment(value: str | None, *, label: str = "查询时点") -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = ensure_aware(datetime.fromisoformat(value))
    except ValueError:
        raise bad_parameter(
            f"{label}格式无效：“{value[:40]}”，应为 YYYY-MM-DDTHH:MM（北京时间），例如 2026-10-12T09:30。"
        ) from None
    try:
        return check_moment(moment)
    except DateOutOfRange:
        raise bad_parameter(f"{label}超出范围：“{value[:40]}”，{DATE_RANGE_ZH}。") from None
