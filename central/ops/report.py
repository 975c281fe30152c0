"""One finding of `hallwatch doctor` or `hallwatch backup verify`: a check's status, what was seen,
and what to do about it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from central.core.clock import SHANGHAI

logger = logging.getLogger(__name__)


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    SKIPPED = "skipped"  # could not be looked at, because an earlier check failed


LABELS = {Status.OK: "OK", Status.WARNING: "警告", Status.ERROR: "错误", Status.SKIPPED: "跳过"}


@dataclass(frozen=True)
class Check:
    name: str  # a stable id for monitoring (`--json`): database, migrations, calendar, …
    title: str  # zh-CN, then an English gloss
    status: Status
    summary: str
    details: tuple[str, ...] = field(default=())  # one line per device, file, table … concerned
    hint: str | None = None  # what to do about it; None when nothing is to be done

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status.value,
            "summary": self.summary,
            "details": list(self.details),
            "hint": self.hint,
        }


def skipped(name: str, title: str, reason: str) -> Check:
    return Check(name, title, Status.SKIPPED, reason)


def failed(checks: Sequence[Check], *, strict: bool = False) -> bool:
    """Whether the checks fail a run: any error, or with `strict` any warning too."""
    bad = {Status.ERROR, Status.WARNING} if strict else {Status.ERROR}
    return any(check.status in bad for check in checks)


def local_time(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def age(delta: timedelta) -> str:
    """How long ago, in the largest unit that reads well: 40 秒, 35 分钟, 5 小时, 3 天."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} 秒"
    if seconds < 2 * 3600:
        return f"{seconds // 60} 分钟"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} 小时"
    return f"{seconds // 86400} 天"
