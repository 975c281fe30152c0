"""`hallwatch backup restore DIR --database-url URL`: a backup into an EMPTY database, proven complete.

The backup is checked first (every file's hash, the dump readable, the checkpoints' signatures): a
damaged one is refused before anything is written. The target must hold no table at all, so a
restore can never mix with, or overwrite, a live deployment. PostgreSQL restores in one transaction
(`pg_restore --single-transaction`): a dump that fails half-way leaves the target empty. SQLite is
copied to a temporary file beside the target and renamed into place. Then the restored database is
held to the manifest (`verify.check_database`)."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError

from central.audit.checkpoint import CheckpointError
from central.audit.signing import SigningKeyError
from central.core.db import make_engine
from central.ops.backup import pg_tools
from central.ops.backup.contents import existing_tables
from central.ops.backup.manifest import PRIVATE_ROLES, Manifest, read_manifest
from central.ops.backup.steps import QUIET, Steps
from central.ops.backup.verify import check_database, check_files, signed_checkpoints
from central.ops.report import Check, failed

logger = logging.getLogger(__name__)


class RestoreError(RuntimeError):
    """A restore refused before anything was written (or undone); the message says what to do."""


@dataclass(frozen=True)
class RestoreResult:
    restored: bool  # False: the backup failed its own checks and nothing was written
    checks: list[Check]


def restore_backup(
    directory: Path,
    url: str,
    *,
    public_key: Path | None = None,
    files_to: Path | None = None,
    steps: Steps = QUIET,
) -> RestoreResult:
    manifest = read_manifest(directory)
    checks = check_files(directory, manifest, public_key=public_key, steps=steps)
    if failed(checks):
        return RestoreResult(False, checks)
    try:
        checkpoints = signed_checkpoints(directory, manifest, public_key)
    except (CheckpointError, SigningKeyError) as exc:  # check_files has said so already
        raise RestoreError(str(exc)) from exc
    if files_to is not None and files_to.exists() and any(files_to.iterdir()):
        raise RestoreError(f"{files_to} 非空 is not empty: name an empty --files-to directory")
    dialect = make_url(url).get_backend_name()
    if dialect != manifest.dialect:
        raise RestoreError(
            f"备份是 {manifest.dialect}, 目标是 {dialect} — a {manifest.dialect} backup restores into {manifest.dialect} only"
        )
    if dialect == "postgresql":
        _restore_postgres(directory, manifest, url, steps)
    else:
        _restore_sqlite(directory, manifest, url, steps)
    if files_to is not None:
        _place_files(directory, manifest, files_to)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            checks += check_database(connection, manifest, checkpoints, steps=steps)
    finally:
        engine.dispose()
    return RestoreResult(True, checks)


def _refuse_non_empty(tables: int, shown: str) -> None:
    if tables:
        raise RestoreError(
            f"目标数据库非空 ({tables} 张表), 拒绝恢复 — {shown} is not empty ({tables} tables): restore into a new, "
            "empty database (createdb NAME), never over one in use"
        )


def _restore_postgres(directory: Path, manifest: Manifest, url: str, steps: Steps) -> None:
    shown = make_url(url).render_as_string(hide_password=True)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _refuse_non_empty(existing_tables(connection), shown)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise RestoreError(
            f"无法连接 cannot connect to {shown}: {reason} (create it first: createdb NAME)"
        ) from exc
    finally:
        engine.dispose()
    try:
        dumped_by = (
            int(pg_tools.tool_version("pg_dump")[1])
            if manifest.dump_tool is None
            else _major(manifest.dump_tool)
        )
        pg_tools.require_major("pg_restore", at_least=dumped_by, why="a dump made by pg_dump")
        with steps.step("恢复数据库 pg_restore") as step:
            pg_tools.restore(
                pg_tools.target(url), dump_file=directory / manifest.database_file.path, tick=step.tick
            )
    except pg_tools.PgToolError as exc:
        raise RestoreError(f"{exc} — 目标数据库保持为空 the target was left empty (one transaction)") from exc


def _major(tool_line: str) -> int:
    digits = tool_line.rsplit(")", maxsplit=1)[-1].strip().split(".")[0]
    return int(digits) if digits.isdigit() else 0


def _restore_sqlite(directory: Path, manifest: Manifest, url: str, steps: Steps) -> None:
    target = Path(make_url(url).database or "")
    if target.exists() and target.stat().st_size > 0:
        with closing(sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)) as db:
            tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        _refuse_non_empty(int(tables), str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.restoring")
    temporary.unlink(missing_ok=True)
    try:
        with (
            steps.step("恢复数据库 copying the SQLite database"),
            closing(sqlite3.connect(directory / manifest.database_file.path)) as src,
            closing(sqlite3.connect(temporary)) as dst,
        ):
            src.backup(dst)
        os.replace(temporary, target)
    except (sqlite3.Error, OSError) as exc:
        raise RestoreError(f"无法写入 cannot write {target}: {exc}") from exc
    finally:
        temporary.unlink(missing_ok=True)


def _place_files(directory: Path, manifest: Manifest, files_to: Path) -> None:
    """The checkpoints and keys, where the restored deployment's settings will point (private keys 0600)."""
    for entry in manifest.files:
        if entry.role == "database":
            continue
        target = files_to / entry.path
        if target.exists():
            raise RestoreError(f"{target} 已存在 exists: name an empty --files-to directory")
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(directory / entry.path, target)
        if entry.role in PRIVATE_ROLES:
            target.chmod(0o600)
    logger.info("checkpoints and keys placed under %s", files_to)
