"""`hallwatch backup …`: back up the deployment (database, checkpoints, keys), check a backup, and
restore one into an empty database with the proof that it is complete (`central.ops.backup`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.exc import DBAPIError

from central.audit.checkpoint import CheckpointError
from central.audit.signing import SigningKeyError
from central.cli.check_lines import echo_json, print_checks
from central.cli.common import console, errors, fail
from central.core.clock import system_clock
from central.core.config import Settings
from central.core.db import make_engine
from central.ops.backup.create import BackupError, create_backup
from central.ops.backup.manifest import PRIVATE_ROLES, ManifestError, read_manifest
from central.ops.backup.restore import RestoreError, restore_backup
from central.ops.backup.steps import Steps
from central.ops.backup.verify import check_database, check_files, signed_checkpoints
from central.ops.report import Check, failed

logger = logging.getLogger(__name__)

app = typer.Typer(
    help="Backups (备份): create, verify, restore into an empty database.", no_args_is_help=True
)

PUBLIC_KEY_HELP = (
    "The deployment's audit public key (.pub), from a copy kept apart from the backups; default: the "
    "backup's own copy."
)
KEYS_WARNING = (
    "[yellow]注意 note[/]: 备份含私钥 (keys/: 审计签名密钥、巡查抽选密钥) — 加密保存 (gpg, age), 或把 keys/ 与备份分开存放; "
    "the backup holds private keys: keep it encrypted, or keep keys/ apart (--without-private-keys)"
)


@contextmanager
def _steps() -> Iterator[Steps]:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,  # stdout stays the verdict alone, for scripts
        transient=True,
    ) as progress:
        yield Steps(progress)


@app.command("create")
def backup_create(
    directory: Path = typer.Argument(..., help="A new (or empty) directory for this backup."),
    without_private_keys: bool = typer.Option(
        False, "--without-private-keys", help="Leave the private keys out (back them up apart)."
    ),
) -> None:
    """Sign a checkpoint, copy the checkpoints and keys, dump the database (pg_dump -Fc, or SQLite's
    backup API) and write manifest.json with every table's rows and every file's SHA-256."""
    settings = Settings()
    try:
        with _steps() as steps:
            manifest = create_backup(
                settings, directory, now=system_clock(), private_keys=not without_private_keys, steps=steps
            )
    except BackupError as exc:
        raise fail(str(exc), 1) from exc
    rows = sum(manifest.tables.values())
    console.print(
        f"备份完成 backup written: {directory} — {len(manifest.tables)} 张表 tables, {rows} 行 rows, "
        f"审计链头 audit head seq {manifest.audit_head.seq}, {len(manifest.files)} 个文件 files",
        highlight=False,
        soft_wrap=True,
    )
    if any(f.role in PRIVATE_ROLES for f in manifest.files):
        errors.print(KEYS_WARNING, highlight=False)


@app.command("verify")
def backup_verify(
    directory: Path = typer.Argument(..., help="The backup directory."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Also hold this database (a restore of the backup) to the manifest."
    ),
    public_key: Path | None = typer.Option(None, "--public-key", help=PUBLIC_KEY_HELP),
    json_output: bool = typer.Option(False, "--json", help="One JSON object instead of lines."),
) -> None:
    """Every file's SHA-256, the dump readable, the checkpoints' signatures; with --database-url, the
    database's revision, row counts, audit chain and stored evidence too. Exits 1 on any error."""
    try:
        manifest = read_manifest(directory)
    except ManifestError as exc:
        raise fail(str(exc), 1) from exc
    with _steps() as steps:
        checks = check_files(directory, manifest, public_key=public_key, steps=steps)
        if database_url is not None and not failed(checks):
            checks += _database_checks(directory, database_url, public_key, steps)
    _finish(checks, json_output=json_output, verdict="备份校验 backup verify")


def _database_checks(directory: Path, url: str, public_key: Path | None, steps: Steps) -> list[Check]:
    manifest = read_manifest(directory)
    try:
        checkpoints = signed_checkpoints(directory, manifest, public_key)
    except (CheckpointError, SigningKeyError) as exc:
        raise fail(str(exc), 1) from exc
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return check_database(connection, manifest, checkpoints, steps=steps)
    except DBAPIError as exc:
        raise fail(
            f"无法读取数据库 cannot read the database: {str(exc.orig or exc).splitlines()[0]}", 1
        ) from exc
    finally:
        engine.dispose()


@app.command("restore")
def backup_restore(
    directory: Path = typer.Argument(..., help="The backup directory."),
    database_url: str = typer.Option(..., "--database-url", help="An EMPTY database to restore into."),
    public_key: Path | None = typer.Option(None, "--public-key", help=PUBLIC_KEY_HELP),
    files_to: Path | None = typer.Option(
        None, "--files-to", help="Put the checkpoints and keys here (an empty directory), as in the backup."
    ),
    json_output: bool = typer.Option(False, "--json", help="One JSON object instead of lines."),
) -> None:
    """Check the backup, restore it into an empty database (refusing one with any table), then prove
    it complete: revision, every table's rows, the audit chain against the latest signed checkpoint,
    every stored item's SHA-256. Exits 1 when anything differs."""
    try:
        with _steps() as steps:
            result = restore_backup(
                directory, database_url, public_key=public_key, files_to=files_to, steps=steps
            )
    except (RestoreError, ManifestError) as exc:
        raise fail(str(exc), 1) from exc
    if not result.restored:
        errors.print(
            "[bold red]未恢复 nothing restored[/]: 备份未通过校验 the backup failed its checks",
            highlight=False,
        )
    _finish(result.checks, json_output=json_output, verdict="恢复校验 restore verify")


def _finish(checks: list[Check], *, json_output: bool, verdict: str) -> None:
    bad = failed(checks)
    if json_output:
        echo_json(checks, ok=not bad)
    else:
        print_checks(checks, verdict=verdict)
    if bad:
        raise typer.Exit(1)
