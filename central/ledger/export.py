"""Export the ledger (台帐, SC-7) as CSV or Excel, audited: copying supervision material is sensitive (SC-18).

Rows stream from the database in chunks (`iter_ledger`) into the writers of `central.exports.tables`
(a temporary file, the audit entry with the exact row count before a byte leaves the server).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from central.core.actor import Actor
from central.core.clock import shanghai_date
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
from central.ledger.labels import (
    COLOR_LABELS,
    ORIGIN_LABELS,
    REASON_LABELS,
    SIGNAL_STATUS_LABELS,
    label,
)
from central.ledger.queries import LedgerFilters, count_ledger, iter_ledger
from central.ledger.schemas import LedgerRow

logger = logging.getLogger(__name__)

EXPORT_ACTION = "ledger.export"
DATA_SHEET = "监察台帐"

COLUMNS: tuple[Column[LedgerRow], ...] = (
    Column("类别", lambda r: r.kind_label, "text", 10),
    Column("编号", lambda r: r.id, "int", 8),
    Column("发出时间（北京时间）", lambda r: r.issued_at, "datetime", 20),
    Column("颜色", lambda r: r.color_label, "text", 10),
    Column("原因", lambda r: r.reason_label, "text", 30),
    Column("原因代码", lambda r: r.reason_code, "text", 26),
    Column("来源", lambda r: r.origin_label, "text", 10),
    Column("状态", lambda r: r.status_label, "text", 10),
    Column("办件编号", lambda r: r.case_no, "text", 22),
    Column("大厅", lambda r: r.hall_name, "text", 24),
    Column("部门", lambda r: r.department_name, "text", 20),
    Column("窗口", lambda r: f"{r.window_name}（{r.window_code}）" if r.window_code else None, "text", 18),
    Column("监察员", lambda r: r.inspector, "text", 12),
    Column("纠正期限", lambda r: r.correct_by, "date", 12),
    Column("升级时间", lambda r: r.escalated_at, "datetime", 20),
    Column("办结时间", lambda r: r.closed_at, "datetime", 20),
    Column("处理结论", lambda r: r.finding_label, "text", 10),
    Column("调查报告期限", lambda r: r.investigation_due, "date", 14),
    Column("调查报告时间", lambda r: r.investigation_reported_at, "datetime", 20),
    Column("调查超期", lambda r: r.investigation_overdue, "bool", 10),
    Column("最后动作", lambda r: r.last_action_label, "text", 10),
    Column("最后动作时间", lambda r: r.last_action_at, "datetime", 20),
    Column("巡查编号", lambda r: r.patrol_id, "int", 10),
    Column("所发信号编号", lambda r: r.signal_id, "int", 12),
)
HEADERS = [column.header for column in COLUMNS]

_FILTER_LABELS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "issued_from": ("发出日期（起）", str),
    "issued_to": ("发出日期（止）", str),
    "color": ("颜色", lambda v: label(COLOR_LABELS, v)),
    "status": ("状态", lambda v: label(SIGNAL_STATUS_LABELS, v)),
    "origin": ("来源", lambda v: label(ORIGIN_LABELS, v)),
    "reason_code": ("原因", lambda v: label(REASON_LABELS, v)),
    "hall_code": ("大厅编号", str),
    "department_code": ("部门编号", str),
    "case_no_prefix": ("办件编号（前缀）", str),
    "overdue_investigation": ("仅调查超期", lambda _v: "是"),
}


def write_csv(rows: Iterable[LedgerRow], path: Path) -> int:
    """The ledger as CSV (see `write_table_csv`)."""
    return write_table_csv(rows, path, COLUMNS)


def write_xlsx(rows: Iterable[LedgerRow], path: Path, *, info: list[tuple[str, str]]) -> int:
    """The ledger sheet and a sheet describing the export (see `write_table_xlsx`)."""
    return write_table_xlsx(
        rows, path, columns=COLUMNS, sheet_name=DATA_SHEET, title="监察台帐导出（SC-7）", info=info
    )


def describe_zh(filters: LedgerFilters) -> list[tuple[str, str]]:
    """The filters that are set, in Chinese, for the export's description sheet."""
    described = filters.describe()
    pairs = [("辖区", str(described.pop("jurisdiction")))]
    for key, value in described.items():
        text, render = _FILTER_LABELS[key]
        pairs.append((f"筛选：{text}", render(value)))
    if len(pairs) == 1:
        pairs.append(("筛选", "无（全部记录）"))
    return pairs


def export_filename(fmt: ExportFormat, now: datetime) -> str:
    return f"ledger-{shanghai_date(now):%Y%m%d}.{fmt.value}"


def export_ledger(
    session: Session, *, filters: LedgerFilters, fmt: ExportFormat, now: datetime, actor: Actor
) -> ExportFile:
    """Write the matching entries to a temporary file and audit the export (`ledger.export`, with
    the filters and the row count) in the session's transaction: the caller commits, then sends."""
    today = shanghai_date(now)
    total = count_ledger(session, filters=filters, today=today)
    if total > MAX_EXPORT_ROWS:
        raise ExportTooLarge(
            f"{total} entries match; one export holds at most {MAX_EXPORT_ROWS}: narrow the filters"
        )
    rows = islice(iter_ledger(session, filters=filters, today=today), MAX_EXPORT_ROWS)

    def write(path: Path) -> int:
        if fmt is ExportFormat.CSV:
            return write_csv(rows, path)
        who = actor.name + (f"（{actor.remote_addr}）" if actor.remote_addr else "")
        info = [
            ("导出时间", f"{shanghai_wall(now):%Y-%m-%d %H:%M:%S}（北京时间）"),
            ("导出人", who),
            *describe_zh(filters),
        ]
        return write_xlsx(rows, path, info=info)

    return audited_export(
        session,
        action=EXPORT_ACTION,
        target_type="ledger",
        fmt=fmt,
        filename=export_filename(fmt, now),
        filters=filters.describe(),
        write=write,
        actor=actor,
        now=now,
    )


__all__ = ["HEADERS", "ExportTooLarge", "export_ledger"]  # ExportTooLarge: what the router catches
