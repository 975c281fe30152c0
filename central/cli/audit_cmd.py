"""`hallwatch audit …`: verify the hash-chained audit trail, and show its newest entries."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Connection

from central.audit.chain import BadEntry, VerifyResult, latest_entries, verify
from central.audit.checkpoint import (
    CheckpointError,
    CheckpointResult,
    check_chain,
    load_checkpoints,
    write_checkpoint,
)
from central.audit.signing import SigningKeyError, generate_key, load_private_key, load_public_key
from central.cli.common import cli_session, console, errors, fail
from central.core.clock import SHANGHAI, system_clock
from central.core.config import Settings

logger = logging.getLogger(__name__)

app = typer.Typer(help="Audit trail (审计日志): verify the chain, show entries.", no_args_is_help=True)

REASONS = {
    "altered": "被篡改 altered",
    "deleted": "被删除 deleted",
    "inserted": "被插入 inserted",
    "head mismatch": "链头不符 head mismatch",
    "checkpoint mismatch": "与签名检查点不符 checkpoint mismatch",
}
PROGRESS_FROM = 50_000  # smaller chains verify in well under a second: no bar


def _local(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


@app.command("verify")
def audit_verify(
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="A checkpoint file, or the directory of them: the chain must agree."
    ),
    public_key: Path | None = typer.Option(None, "--public-key", help="The deployment's public key (.pub)."),
) -> None:
    """Recompute every hash; exits 0 on an intact chain, 1 naming the first bad entry. With
    --checkpoint and --public-key, also hold it to the signed heads kept outside the database."""
    if (checkpoint is None) != (public_key is None):
        raise fail("--checkpoint and --public-key go together")
    try:
        checkpoints = (
            load_checkpoints(checkpoint, load_public_key(public_key)) if checkpoint and public_key else []
        )
    except (CheckpointError, SigningKeyError) as exc:
        raise fail(f"检查点不可信 checkpoint refused: {exc}", 1) from exc
    with cli_session() as (_settings, session):
        result = _verify_chain(session.connection())
        held: CheckpointResult | None = None
        if checkpoints and result.bad is None:
            held = check_chain(session.connection(), result, checkpoints)
    bad = result.bad or (held.bad if held else None)
    if bad is None:
        console.print(f"审计链完整: {result.checked} 条")
        if held:
            console.print(
                f"与 {held.checkpoints} 个签名检查点一致 agrees with the signed checkpoints (至 seq {held.agreed_upto})"
            )
        return
    _report(bad, result.checked if held is None else held.agreed_upto)
    raise typer.Exit(1)


def _verify_chain(connection: Connection) -> VerifyResult:
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

        return verify(connection, progress=advance)


def _report(bad: BadEntry, intact: int) -> None:
    errors.print(
        f"[bold red]审计链已损坏 audit chain broken[/]: seq {bad.seq} {REASONS[bad.reason]}",
        highlight=False,
    )
    errors.print(f"  操作 action: {bad.action or '—'}   时间 at: {_local(bad.at)}", highlight=False)
    errors.print(f"  {bad.detail}", highlight=False)
    errors.print(f"  此前 {intact} 条完好 (entries before it are intact)", highlight=False)


@app.command("keygen")
def audit_keygen(
    path: Path | None = typer.Argument(
        None, help="Private key file to create (default: HALLWATCH_AUDIT_SIGNING_KEY)."
    ),
) -> None:
    """Create the deployment's Ed25519 checkpoint key (0600) and its public key beside it (.pub)."""
    target = path or Settings().audit_signing_key
    if target is None:
        raise fail("name the key file, or set HALLWATCH_AUDIT_SIGNING_KEY")
    try:
        pub, key_id = generate_key(target)
    except (SigningKeyError, OSError) as exc:
        raise fail(str(exc)) from exc
    console.print(f"签名密钥已生成 key {key_id}: {target} (私钥 0600，勿入数据库); 公钥 public key: {pub}")


@app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's head now into HALLWATCH_AUDIT_CHECKPOINT_DIR (serve does it on a schedule)."""
    settings = Settings()
    if settings.audit_checkpoint_dir is None or settings.audit_signing_key is None:
        raise fail("set HALLWATCH_AUDIT_CHECKPOINT_DIR and HALLWATCH_AUDIT_SIGNING_KEY")
    try:
        key = load_private_key(settings.audit_signing_key)
        with cli_session(settings) as (_settings, session):
            signed, path = write_checkpoint(
                session, key=key, directory=settings.audit_checkpoint_dir, now=system_clock()
            )
    except (SigningKeyError, CheckpointError, OSError) as exc:
        raise fail(str(exc)) from exc
    where = path or "已有相同检查点 unchanged since the newest checkpoint"
    console.print(f"检查点 checkpoint: seq {signed.seq} {signed.head_hash[:12]} → {where}")


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
