"""The one CLI, `hallwatch <command>`: each command's module is imported only when that command runs.

A hall's box runs `hallwatch edge run` and `hallwatch keypad emulate` with the `edge` extra only, a
display PC `hallwatch display run` with the `display` extra: those modules live on the hall's side
(`edge.cli`, `rating_device.cli`, `hall_display.cli`) and import nothing of central, and
loading them lazily keeps FastAPI, SQLAlchemy, Alembic and uvicorn out of the process (tested).
"""

from __future__ import annotations

import importlib
import logging
from typing import NamedTuple

import typer
from typer._click import Command as ClickCommand  # typer vendors click; its types are these
from typer._click import Context, HelpFormatter
from typer.core import TyperGroup

logger = logging.getLogger(__name__)


class Command(NamedTuple):
    module: str
    attribute: str  # a typer.Typer (a group of commands) or a function (one command)
    help: str  # shown by `hallwatch --help` without importing the module


COMMANDS: dict[str, Command] = {
    "db": Command("central.cli.db_cmd", "app", "Database schema."),
    "cases": Command("central.cli.cases_cmd", "app", "Cases (办件)."),
    "calendar": Command("central.cli.calendar_cmd", "app", "Working-day calendar (LAW art. 82)."),
    "profiles": Command("central.cli.profiles_cmd", "app", "Rule profiles."),
    "registry": Command("central.cli.registry_cmd", "app", "Registry: regions, halls, windows, items."),
    "audit": Command("central.cli.audit_cmd", "app", "Audit trail (审计日志): verify, checkpoints, show."),
    "users": Command("central.cli.users_cmd", "app", "Users and roles (SC-15)."),
    "signals": Command("central.cli.signals_cmd", "app", "Signals (预警纠错): one scheduler pass."),
    "devices": Command("central.cli.devices_cmd", "app", "Devices and their keys (设备密钥)."),
    "evidence": Command("central.cli.evidence_cmd", "app", "Evidence snapshots (证据快照)."),
    "scores": Command(
        "central.cli.scores_cmd", "app", "Performance scores (绩效得分): daily pass, recompute."
    ),
    "sampling": Command(
        "central.cli.sampling_cmd", "app", "Sampling supervision (抽样监察): draw a month, verify a draw."
    ),
    "anomalies": Command(
        "central.cli.anomalies_cmd", "app", "Data supervision (数据监察): run the anomaly rules."
    ),
    "patrol": Command("central.cli.patrol_cmd", "app", "Video patrols (视频监察): draw key, daily plan."),
    "report": Command(
        "central.cli.report_cmd", "app", "Reports (电子监察月报): the monthly report as a PDF."
    ),
    "dualtrack": Command(
        "central.cli.dualtrack_cmd", "app", "Dual-track detection (双轨运行研判): judge a finished day."
    ),
    "doctor": Command(
        "central.cli.doctor_cmd",
        "doctor",
        "Check this deployment (体检): database, calendar, audit, devices.",
    ),
    "backup": Command(
        "central.cli.backup_cmd", "app", "Backups (备份): create, verify, restore into an empty database."
    ),
    "serve": Command("central.cli.serve_cmd", "serve", "Run the central server."),
    "jobs": Command(
        "central.cli.jobs_cmd", "jobs", "Run the periodic jobs (周期任务) in a process of their own."
    ),
    "demo": Command("central.cli.demo_cmd", "demo", "Seed a demo province and serve it with a live hall."),
    "edge": Command("edge.cli", "app", "Edge agent: cameras, keypads, outbox, recordings."),
    "keypad": Command("rating_device.cli", "app", "Keypad emulator (评价器模拟)."),
    "display": Command("hall_display.cli", "app", "Hall display agent (大厅显示屏)."),
}


class LazyCommands(TyperGroup):
    """The root group: the commands of COMMANDS, each built from its module on first use."""

    def list_commands(self, ctx: Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: Context, cmd_name: str) -> ClickCommand | None:
        known = super().get_command(ctx, cmd_name)
        if known is not None or cmd_name not in COMMANDS:
            return known
        entry = COMMANDS[cmd_name]
        target = getattr(importlib.import_module(entry.module), entry.attribute)
        if isinstance(target, typer.Typer):  # a group, even of one command (`signals run`, `db upgrade`)
            command: ClickCommand = typer.main.get_group(target)
        else:  # a function: one command
            single = typer.Typer()
            single.command(cmd_name)(target)
            command = typer.main.get_command(single)
        command.name = cmd_name
        # Shell completion is the root's option, not each command's.
        command.params = [
            p for p in command.params if p.name not in ("install_completion", "show_completion")
        ]
        return command

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The listing from COMMANDS' help texts: `hallwatch --help` imports no command module."""
        rows = [(name, COMMANDS[name].help) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    cls=LazyCommands,
    help="hallwatch — 政务服务中心电子监察 (electronic supervision for service halls)",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # one line per HTTP request from the edge agent's client drowns everything else
        logging.getLogger("httpx").setLevel(logging.WARNING)
