"""What a monthly report is asked for: a month (YYYY-MM, checked) and a scope (the deployment `*`, a
region's code — province, city or county — or a hall's code), resolved to a jurisdiction.

Bad input raises `ReportInputError` with an English detail for the API and a zh-CN one for pages."""

from __future__ import annotations

import calendar as month_days
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.core.clock import SHANGHAI
from central.core.types import EARLIEST_DAY, LATEST_DAY
from central.registry.jurisdiction import (
    Jurisdiction,
    ScopeError,
    ScopeKind,
    jurisdiction_of,
    resolve_scope_code,
)
from central.registry.models import Hall, Region

logger = logging.getLogger(__name__)

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
DEPLOYMENT_NAME = "全部辖区"


class ReportInputError(ValueError):
    """A month or scope no report can be made for; `status_code` 422 (malformed) or 404 (no such
    scope, or not the caller's: the two look the same)."""

    def __init__(self, detail: str, zh: str, *, status_code: int = 422) -> None:
        super().__init__(detail)
        self.detail = detail
        self.zh = zh
        self.status_code = status_code


@dataclass(frozen=True)
class Month:
    first: date
    last: date

    @property
    def text(self) -> str:
        return self.first.strftime("%Y-%m")

    @property
    def zh(self) -> str:
        return f"{self.first.year}年{self.first.month}月"

    @property
    def start_utc(self) -> datetime:
        """The month's first Shanghai midnight, in UTC."""
        return datetime.combine(self.first, time(0), SHANGHAI).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        """The Shanghai midnight after the month's last day, in UTC (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC)

    @property
    def previous(self) -> Month:
        return month_of(self.first - timedelta(days=1))


def month_of(day: date) -> Month:
    first = day.replace(day=1)
    return Month(first, first.replace(day=month_days.monthrange(first.year, first.month)[1]))


def parse_month(text: str | None, *, today: date) -> Month:
    """`YYYY-MM`, from 2000-01 to the month running today; none given: last month (the one a report
    is usually wanted for)."""
    if text is None or not text.strip():
        return month_of(today.replace(day=1) - timedelta(days=1))
    match = MONTH_PATTERN.match(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ReportInputError(
            f"month must look like 2026-11, not {text[:20]!r}", f"月份格式应为 2026-11，而不是“{text[:20]}”。"
        )
    first = date(int(match.group(1)), int(match.group(2)), 1)
    if not EARLIEST_DAY <= first <= LATEST_DAY:
        raise ReportInputError(
            f"month must lie between {EARLIEST_DAY:%Y-%m} and {LATEST_DAY:%Y-%m}",
            f"月份应在 {EARLIEST_DAY:%Y-%m} 到 {LATEST_DAY:%Y-%m} 之间。",
        )
    if first > today:
        raise ReportInputError(
            f"{first:%Y-%m} has not begun (today is {today.isoformat()})",
            f"{first.year}年{first.month}月尚未开始（今天是 {today.isoformat()}）。",
        )
    return month_of(first)


def _not_found(code: str) -> ReportInputError:
    return ReportInputError(
        f"no region or hall with the code {code[:60]!r} in your jurisdiction",
        f"您的辖区内没有代码为“{code[:60]}”的地区或大厅。",
        status_code=404,
    )


def report_scope(session: Session, code: str, *, caller: Jurisdiction | None = None) -> Jurisdiction:
    """The jurisdiction a scope code names: `*`, a region (province, city, county) or a hall — not a
    department. With `caller`, one outside the caller's jurisdiction is answered like a missing one."""
    code = code.strip()
    if not code:
        raise ReportInputError("scope must not be empty", "请指定辖区（* 、地区代码或大厅代码）。")
    try:
        kind, scope_id = resolve_scope_code(session, code)
    except ScopeError as exc:
        if "several" in str(exc) or "unknown scope kind" in str(exc):
            raise ReportInputError(
                str(exc), f"辖区代码“{code[:60]}”有歧义或无效：请写作 region:代码 或 hall:代码。"
            ) from exc
        raise _not_found(code) from exc
    if kind is ScopeKind.DEPARTMENT:
        raise ReportInputError(
            "a monthly report covers the deployment (*), a region or a hall, not a department",
            "电子监察月报按全部辖区、省、市、县（区）或大厅生成，不按部门生成。",
        )
    scope = jurisdiction_of(session, kind=kind, scope_id=scope_id)
    if caller is not None and not caller.contains(scope):
        raise _not_found(code)
    return scope


def scope_name(session: Session, scope: Jurisdiction) -> tuple[str, str | None]:
    """The scope's name and level (province | city | county, or the hall's level)."""
    if scope.kind is ScopeKind.DEPLOYMENT:
        return DEPLOYMENT_NAME, None
    model = Region if scope.kind is ScopeKind.REGION else Hall
    row = session.execute(select(model.name, model.level).where(model.id == scope.scope_id)).one()
    return str(row[0]), str(row[1])


def scope_kind_text(scope: Jurisdiction) -> str:
    """What the stored report's `scope_kind` says: deployment, region or hall."""
    return scope.kind.value


__all__ = [
    "Month",
    "ReportInputError",
    "month_of",
    "parse_month",
    "report_scope",
    "scope_kind_text",
    "scope_name",
]
