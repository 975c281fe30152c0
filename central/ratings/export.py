"""Export ratings in the national 好差评 field shape (RULES "Satisfaction ratings": case number,
item code, department, region code, channel, level, optional text, rated staff, time) as CSV or
Excel, audited (`ratings.export`): the records name staff members, so copying them is recorded
like the ledger's (SC-18).

The writers are shared with the ledger (`central.exports.tables`: UTF-8 with BOM, formulas
defused, openpyxl write-only, a temporary file streamed afterwards); rows stream from the database in chunks.
Excluded ratings are exported marked 已剔除 unless `include_excluded` is false: a record export
shows the record, never silently less.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from central.cases.models import Case
from central.core.actor import Actor
from central.exports.tables import (
    MAX_EXPORT_ROWS,
    Column,
    ExportFile,
    ExportFormat,
    ExportTooLarge,
    audited_export,
    shanghai_wall,
    write_table_csv,
    write_table_xlsx,
)
from central.ratings.labels import channel_label, level_label
from central.ratings.models import Rating
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Hall, Item, Region, ServiceWindow, Staff

logger = logging.getLogger(__name__)

EXPORT_ACTION = "ratings.export"
DATA_SHEET = "好差评记录"
CHUNK_ROWS = 1000


@dataclass(frozen=True, kw_only=True)
class RatingFilters:
    within: Jurisdiction
    date_from: date
    date_to: date
    include_excluded: bool = True

    def describe(self) -> dict[str, Any]:
        return {
            "jurisdiction": self.within.code,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "include_excluded": self.include_excluded,
        }


@dataclass(frozen=True)
class RatingRecord:
    """One rating as the national 好差评 exchange carries it, plus our own columns."""

    case_no: str | None
    item_code: str | None
    item_name: str | None
    department_code: str | None
    department_name: str | None
    region_code: str
    channel: str
    level: int
    text: str | None
    staff_code: str | None
    staff_name: str | None
    rated_at: datetime
    id: int
    hall_code: str
    window_code: str | None
    weight: float
    burst: bool
    unattended: bool
    excluded: bool
    excluded_by_approval_id: int | None


COLUMNS: tuple[Column[RatingRecord], ...] = (
    Column("办件编号", lambda r: r.case_no, "text", 22),
    Column("事项编码", lambda r: r.item_code, "text", 18),
    Column("事项名称", lambda r: r.item_name, "text", 24),
    Column("部门编码", lambda r: r.department_code, "text", 12),
    Column("部门名称", lambda r: r.department_name, "text", 20),
    Column("行政区划代码", lambda r: r.region_code, "text", 12),
    Column("评价渠道代码", lambda r: r.channel, "text", 14),
    Column("评价渠道", lambda r: channel_label(r.channel), "text", 12),
    Column("评价等级", lambda r: r.level, "int", 8),
    Column("评价等级名称", lambda r: level_label(r.level), "text", 12),
    Column("评价内容", lambda r: r.text, "text", 30),
    Column("被评价人员工号", lambda r: r.staff_code, "text", 14),
    Column("被评价人员姓名", lambda r: r.staff_name, "text", 12),
    Column("评价时间（北京时间）", lambda r: r.rated_at, "datetime", 20),
    Column("评价编号", lambda r: r.id, "int", 10),
    Column("大厅编码", lambda r: r.hall_code, "text", 14),
    Column("窗口编号", lambda r: r.window_code, "text", 10),
    Column("权重", lambda r: r.weight, "float", 8),
    Column("突发连按", lambda r: r.burst, "bool", 10),
    Column("无人在场", lambda r: r.unattended, "bool", 10),
    Column("已剔除", lambda r: r.excluded, "bool", 8),
    Column("剔除审批编号", lambda r: r.excluded_by_approval_id, "int", 12),
)
HEADERS = [column.header for column in COLUMNS]


def _query(filters: RatingFilters) -> Select[*tuple[Any, ...]]:
    query = (
        select(
            Case.case_no,
            Item.code,
            Item.name,
            Department.code,
            Department.name,
            Region.code,
            Rating.channel,
            Rating.level,
            Rating.text,
            Staff.code,
            Staff.name,
            Rating.rated_at,
            Rating.id,
            Hall.code,
            ServiceWindow.code,
            Rating.weight,
            Rating.burst,
            Rating.unattended,
            Rating.excluded,
            Rating.excluded_by_approval_id,
        )
        .select_from(Rating)
        .join(Hall, Hall.id == Rating.hall_id)
        .join(Region, Region.id == Hall.region_id)
        .outerjoin(Case, Case.id == Rating.case_id)
        .outerjoin(Item, Item.id == Case.item_id)
        .outerjoin(Department, Department.id == Rating.department_id)
        .outerjoin(ServiceWindow, ServiceWindow.id == Rating.window_id)
        .outerjoin(Staff, Staff.id == Rating.staff_id)
        .where(
            Rating.rated_on >= filters.date_from,
            Rating.rated_on <= filters.date_to,
            filters.within.clause(hall_id=Rating.hall_id, department_id=Rating.department_id),
        )
    )
    if not filters.include_excluded:
        query = query.where(Rating.excluded.is_(False))
    return query


def count_ratings(session: Session, *, filters: RatingFilters) -> int:
    return session.scalar(select(func.count()).select_from(_query(filters).subquery())) or 0


def iter_records(session: Session, *, filters: RatingFilters) -> Iterator[RatingRecord]:
    """Matching ratings in time order, `CHUNK_ROWS` at a time (a server-side cursor on PostgreSQL)."""
    query = _query(filters).order_by(Rating.rated_at, Rating.id).execution_options(yield_per=CHUNK_ROWS)
    for row in session.execute(query):
        yield RatingRecord(*row)


def export_filename(fmt: ExportFormat, filters: RatingFilters) -> str:
    return f"ratings-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.{fmt.value}"


def export_ratings(
    session: Session, *, filters: RatingFilters, fmt: ExportFormat, now: datetime, actor: Actor
) -> ExportFile:
    """Write the matching ratings to a temporary file and audit the export (with the filters and
    the row count) in the session's transaction: the caller commits, then sends the file."""
    total = count_ratings(session, filters=filters)
    if total > MAX_EXPORT_ROWS:
        raise ExportTooLarge(
            f"{total} ratings match; one export holds at most {MAX_EXPORT_ROWS}: narrow the dates"
        )
    rows = islice(iter_records(session, filters=filters), MAX_EXPORT_ROWS)

    def write(path: Path) -> int:
        if fmt is ExportFormat.CSV:
            return write_table_csv(rows, path, COLUMNS)
        info = _info(filters, now, actor)
        return write_table_xlsx(
            rows, path, columns=COLUMNS, sheet_name=DATA_SHEET, title="好差评记录导出（HCP）", info=info
        )

    return audited_export(
        session,
        action=EXPORT_ACTION,
        target_type="ratings",
        fmt=fmt,
        filename=export_filename(fmt, filters),
        filters=filters.describe(),
        write=write,
        actor=actor,
        now=now,
    )


def _info(filters: RatingFilters, now: datetime, actor: Actor) -> list[tuple[str, str]]:
    who = actor.name + (f"（{actor.remote_addr}）" if actor.remote_addr else "")
    return [
        ("导出时间", f"{shanghai_wall(now):%Y-%m-%d %H:%M:%S}（北京时间）"),
        ("导出人", who),
        ("辖区", filters.within.code),
        ("评价日期", f"{filters.date_from.isoformat()} 至 {filters.date_to.isoformat()}"),
        ("已剔除的评价", "包含（标注“已剔除”）" if filters.include_excluded else "不含"),
    ]


__all__ = ["COLUMNS", "HEADERS", "RatingFilters", "RatingRecord", "export_ratings", "iter_records"]
