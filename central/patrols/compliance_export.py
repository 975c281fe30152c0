"""The monthly patrol compliance table as CSV or Excel, audited (`patrol.compliance.export`)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from central.core.actor import Actor
from central.exports.tables import (
    Column,
    ExportFile,
    ExportFormat,
    audited_export,
    shanghai_wall,
    write_table_csv,
    write_table_xlsx,
)
from central.patrols.schemas import BodyCompliance, ComplianceMonth

logger = logging.getLogger(__name__)

EXPORT_ACTION = "patrol.compliance.export"
LEVEL_LABELS = {"province": "省级", "city": "市（州）级", "county": "县（市、区）级"}

COLUMNS: tuple[Column[BodyCompliance], ...] = (
    Column("监察机构代码", lambda b: b.code, "text", 12),
    Column("监察机构", lambda b: b.name, "text", 20),
    Column("层级", lambda b: LEVEL_LABELS.get(b.level, b.level), "text", 12),
    Column("应巡查次数", lambda b: b.required, "int", 12),
    Column("已完成次数", lambda b: b.done, "int", 12),
    Column("完成率", lambda b: f"{b.rate:.1%}" if b.rate is not None else "—", "text", 10),
    Column("未达标天数", lambda b: len(b.short_days), "int", 12),
    Column("未达标日期", lambda b: "、".join(d.isoformat() for d in b.short_days), "text", 40),
)


def export_compliance(
    session: Session,
    *,
    table: ComplianceMonth,
    fmt: ExportFormat,
    jurisdiction: str,
    now: datetime,
    actor: Actor,
) -> ExportFile:
    """Write the table to a temporary file and audit the export; the caller commits, then sends."""

    def write(target: Path) -> int:
        if fmt is ExportFormat.CSV:
            return write_table_csv(table.bodies, target, COLUMNS)
        info = [
            ("导出时间", f"{shanghai_wall(now):%Y-%m-%d %H:%M:%S}（北京时间）"),
            ("导出人", actor.name),
            ("辖区", jurisdiction),
            ("月份", table.month),
            ("统计截至", table.until.isoformat()),
        ]
        return write_table_xlsx(
            table.bodies,
            target,
            columns=COLUMNS,
            sheet_name="巡查完成情况",
            title="视频巡查完成情况（SC-6(1)）",
            info=info,
        )

    return audited_export(
        session,
        action=EXPORT_ACTION,
        target_type="patrol_compliance",
        fmt=fmt,
        filename=f"patrol-compliance-{table.month}.{fmt.value}",
        filters={"month": table.month, "jurisdiction": jurisdiction},
        write=write,
        actor=actor,
        now=now,
    )
