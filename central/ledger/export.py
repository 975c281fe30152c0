"""Export the ledger (台帐, SC-7) as CSV or Excel, audited: copying supervision material is sensitive (SC-18).

Both formats are written to a temporary file first, streaming rows from the database in chunks
(`iter_ledger`), so a million rows never sit in memory; the audit entry, with the exact row count,
is recorded before a single byte leaves the server, and the caller streams the file afterwards.
CSV is UTF-8 with a BOM (so Excel opens Chinese correctly); XLSX uses openpyxl's write-only mode.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.core.actor import Actor
from central.core.clock import SHANGHAI, shanghai_date
from central.ledger.labels import (
    COLOR_LABELS,
    ORIGIN_LABELS,
    REASON_LABELS,
    SIGNAL_STATUS_LABELS,
    label,
)
from central.ledger.queries import LedgerFilters, count_ledger, iter_ledger
from central.ledger.schemas import ExportFormat, LedgerRow

logger = logging.getLogger(__name__)

MAX_EXPORT_ROWS = 1_048_575  # an Excel sheet's rows, less the header
EXPORT_ACTION = "ledger.export"
MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DATA_SHEET = "监察台帐"
INFO_SHEET = "导出说明"
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
HEADER_FILL = PatternFill("solid", fgColor="1B4F8A")
HEADER_FONT = Font(bold=True, color="FFFFFF")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CellKind = Literal["text", "int", "date", "datetime", "bool", "float"]
R = TypeVar("R")


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column of an export; the writers below serve any row type (the ratings export too)."""

    header: str  # zh-CN, as a person reads it
    value: Callable[[R], Any]
    kind: CellKind
    width: int  # Excel column width, in characters


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
    Column("纠正期限", lambda r: r.correct_by, "date", 12),
    Column("升级时间", lambda r: r.escalated_at, "datetime", 20),
    Column("办结时间", lambda r: r.closed_at, "datetime", 20),
    Column("处理结论", lambda r: r.finding_label, "text", 10),
    Column("调查报告期限", lambda r: r.investigation_due, "date", 14),
    Column("调查报告时间", lambda r: r.investigation_reported_at, "datetime", 20),
    Column("调查超期", lambda r: r.investigation_overdue, "bool", 10),
    Column("最后动作", lambda r: r.last_action_label, "text", 10),
    Column("最后动作时间", lambda r: r.last_action_at, "datetime", 20),
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


class ExportTooLarge(ValueError):
    """More rows match than one export may hold: the filters must be narrowed."""


@dataclass(frozen=True)
class ExportFile:
    path: Path  # a temporary file: the caller deletes it once sent
    filename: str
    media_type: str
    rows: int


def shanghai_wall(moment: datetime) -> datetime:
    """Shanghai wall time without a zone (Excel has none; headers say 北京时间)."""
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


def _text(value: str | None) -> str:
    """A cell's text, defused: a leading =, +, -, @ would make a spreadsheet run it as a formula."""
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_cell(column: Column[R], row: R) -> str:
    value = column.value(row)
    if value is None:
        return ""
    if column.kind == "datetime":
        return shanghai_wall(value).strftime("%Y-%m-%d %H:%M:%S")
    if column.kind == "date":
        return str(value.isoformat())
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind in ("int", "float"):
        return str(value)
    return _text(str(value))


def write_table_csv(rows: Iterable[R], path: Path, columns: Sequence[Column[R]]) -> int:
    """Header in zh-CN, then one line per row; UTF-8 with a BOM, formulas defused. Returns the rows."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([column.header for column in columns])
        for row in rows:
            writer.writerow([csv_cell(column, row) for column in columns])
            count += 1
    return count


def write_csv(rows: Iterable[LedgerRow], path: Path) -> int:
    """The ledger as CSV (see `write_table_csv`)."""
    return write_table_csv(rows, path, COLUMNS)


def _xlsx_cell(sheet: WriteOnlyWorksheet, column: Column[R], row: R) -> Any:
    value = column.value(row)
    if value is None:
        return None
    if column.kind == "datetime":
        cell = WriteOnlyCell(sheet, value=shanghai_wall(value))
        cell.number_format = TIME_FORMAT
        return cell
    if column.kind == "date":
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind in ("int", "float"):
        return value
    cell = WriteOnlyCell(sheet, value=str(value))
    cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def _header(sheet: WriteOnlyWorksheet, headers: Sequence[str]) -> list[Cell]:
    cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cells.append(cell)
    return cells


def write_table_xlsx(
    rows: Iterable[R],
    path: Path,
    *,
    columns: Sequence[Column[R]],
    sheet_name: str,
    title: str,
    info: list[tuple[str, str]],
) -> int:
    """A data sheet (styled, frozen header, real date cells, openpyxl write-only) and a sheet
    (`INFO_SHEET`) describing the export under `title`. Returns the number of rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.append(_header(sheet, [column.header for column in columns]))
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, column, row) for column in columns])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    notes = workbook.create_sheet(INFO_SHEET)
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 48
    heading = WriteOnlyCell(notes, value=title)
    heading.font = Font(bold=True, size=14)
    notes.append([heading])
    for key, value in [*info, ("记录条数", str(count))]:
        text = WriteOnlyCell(notes, value=_text(value))
        text.data_type = "s"
        notes.append([key, text])
    workbook.save(path)
    return count


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


def audited_export(
    session: Session,
    *,
    action: str,
    target_type: str,
    fmt: ExportFormat,
    filename: str,
    filters: dict[str, Any],
    write: Callable[[Path], int],
    actor: Actor,
    now: datetime,
) -> ExportFile:
    """Write an export to a temporary file with `write` (returning its row count) and audit it
    (`action`, with the filters and the count) in the session's transaction; the caller commits,
    then sends and deletes the file. Nothing is left behind when either step fails."""
    handle, name = tempfile.mkstemp(prefix=f"hallwatch-{target_type}-", suffix=f".{fmt.value}")
    os.close(handle)
    path = Path(name)
    try:
        count = write(path)
        after = {"format": fmt.value, "filters": filters, "rows": count}
        record(
            session,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=filename,
            after=after,
            at=now,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    logger.info("%s export %s by %s: %d rows", target_type, fmt.value, actor.label, count)
    return ExportFile(path=path, filename=filename, media_type=MEDIA_TYPES[fmt], rows=count)
