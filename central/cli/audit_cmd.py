"""`hallwatch audit …`: verify the hash-chained audit trail, and show its newest entries."""

from __future__ import annotations

import logging
from datetime import datetime

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from central.audit.chain import VerifyResult, latest_entries, verify
from central.cli.common import cli_session, console, errors
from central.core.clock import SHANGHAI

logger = logging.getLogger(__name__)

app = typer.Typer(help="Audit trail (审计日志): verify the chain, show entries.", no_args_is_help=True)

REASONS = {
    "altered": "被篡改 altered",
    "deleted": "被删除 deleted",
    "inserted": "被插入 inserted",
    "head mismatch": "链头不符 head mismatch",
}
PROGRESS_FROM = 50_000  # smaller chains verify in well under a second: no bar


def _local(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


@app.command("verify")
def audit_verify() -> None:
    """Recompute every hash; exits 0 on an intact chain, 1 naming the first bad entry."""
    with cli_session() as (_settings, session):
        connection = session.connection()
        with Progress(
            TextColumn("校验审计链"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=errors,  # stdout stays the verdict alone, for scripts
            transient=True,
        ) as progress:
            task = progress.add_task("verify", total=None, visible=False)

            def advance(done: int, total: int) -> None:
                if total >= PROGRESS_FROM:
                    progress.update(task, completed=done, total=total, visible=True)

            result: VerifyResult = verify(connection, progress=advance)
    bad = result.bad
    if bad is None:
        console.print(f"审计链完整: {result.checked} 条")
        return
    errors.print(
        f"[bold red]审计链已损坏 audit chain broken[/]: seq {bad.seq} {REASONS[bad.reason]}",
        highlight=False,
    )
    errors.print(f"  操作 action: {bad.action or '—'}   时间 at: {_local(bad.at)}", highlight=False)
    errors.print(f"  {bad.detail}", highlight=False)
    errors.print(f"  此前 {result.checked} 条完好 (entries before it are intact)", highlight=False)
    raise typer.Exit(1)


@app.command("show")
def audit_show(
    last: int = typer.Option(20, "--last", "-n", min=1, max=10_000, help="How many of the newest entries."),
) -> None:
    """The newest entries, oldest first (times in Asia/Shanghai)."""
    with cli_session() as (_settings, session):
        entries = latest_entries(session, limit=last)
    table = Table("seq", "时间 at", "操作者 actor", "来源 from", "操作 action", "对象 target", "hash")
    for entry in entries:
        table.add_row(
            str(entry.seq),
            _local(entry.at),
            entry.actor,
            entry.remote_addr or "—",
            entry.action,
            f"{entry.target_type}:{entry.target_id}",
            entry.hash[:12],
        )
    console.print(table)
