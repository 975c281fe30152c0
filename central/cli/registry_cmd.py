"""`hallwatch registry …`: load regions, halls, departments, windows, staff, devices and items."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from central.cli.common import cli_actor, cli_session, console, fail
from central.core.clock import system_clock
from central.registry.importer import RegistryConflictError, RegistryImportError, import_registry_text

app = typer.Typer(
    help="Registry: regions, halls, departments, windows, staff, devices, items.", no_args_is_help=True
)

KIND_LABELS = {
    "regions": "行政区划 regions",
    "halls": "服务中心 halls",
    "departments": "部门 departments",
    "windows": "窗口 windows",
    "staff": "人员 staff",
    "devices": "设备 devices",
    "items": "事项 items",
}


@app.command("import")
def registry_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="YAML (or JSON) registry file."),
) -> None:
    """Create or update everything in FILE at once; with any problem, nothing is written (exit 2)."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"{file}: not UTF-8 text (byte {exc.start})") from exc
    with cli_session() as (_settings, session):
        try:
            report = import_registry_text(
                session, text=text, origin=str(file), actor=cli_actor(), now=system_clock()
            )
        except RegistryImportError as exc:
            # One plain line per problem, FILE:LINE: place: message, for editors and grep.
            for problem in exc.problems:
                where = f"{file}:{problem.line}" if problem.line is not None else str(file)
                typer.echo(f"{where}: {problem.place}: {problem.message}", err=True)
            raise fail(f"{len(exc.problems)} 个问题，未写入任何数据 (nothing was written)") from exc
        except RegistryConflictError as exc:
            raise fail(str(exc)) from exc
    table = Table("类别 kind", "新增 created", "更新 updated", "未变 unchanged")
    for kind, counts in report.kinds().items():
        table.add_row(KIND_LABELS[kind], str(counts.created), str(counts.updated), str(counts.unchanged))
    console.print(table)
    console.print("登记数据已导入" if report.changed else "登记数据无变化 (nothing changed)")
