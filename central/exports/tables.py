"""Tabular exports (CSV and Excel) of any rows, audited: copying supervision material is sensitive
(SC-18). Shared by the ledger (`central.ledger.export`) and the ratings (`central.ratings.export`).

Both formats are written to a temporary file first, from an iterator of rows, so a million rows
never sit in memory; the audit entry, with the exact row count, is recorded before a single byte
leaves the server, and the caller streams the file afterwards. CSV is UTF-8 with a BOM (so Excel
opens Chinese correctly), formulas defused; XLSX uses openpyxl's write-only mode.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
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
from central.core.clock import SHANGHAI

logger = logging.getLogger(__name__)


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MAX_EXPORT_ROWS = 1_048_575  # an Excel sheet's rows, less the header
MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
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
    """One column of an export; the writers below serve any row type."""

    header: str  # zh-CN, as a person reads it
    value: Callable[[R], Any]
    kind: CellKind
    width: int  # Excel column width, in characters


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
