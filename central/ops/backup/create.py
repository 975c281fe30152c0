"""`hallwatch backup create DIR`: the database and the files kept outside it, with a manifest.

Order matters on a live deployment: a checkpoint is signed first (so the backup carries one over its
own chain), the files are copied next, and the database is dumped last, in one snapshot from which
the manifest's counts and audit head are read too. Every checkpoint copied is then at or below the
dumped head. The backup is written beside DIR under a hidden name and renamed into place when
complete: a failed run leaves no half-backup that looks whole."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from central.audit.checkpoint import CheckpointError, write_checkpoint
from central.audit.signing import SigningKeyError, load_private_key, public_path
from central.core.config import Settings
from central.core.db import make_engine, make_session_factory
from central.core.db_errors import first_line
from central.ops.backup import pg_tools
from central.ops.backup.contents import audit_head, blob_totals, revisions, table_counts
from central.ops.backup.manifest import (
    CHECKPOINTS_DIR,
    KEYS_DIR,
    PG_DUMP_FILE,
    SQLITE_FILE,
    AuditHeadRecord,
    BackupFile,
    BlobTotals,
    FileRole,
    Manifest,
    describe_file,
    write_manifest,
)
from central.ops.backup.steps import QUIET, Steps

logger = logging.getLogger(__name__)

SIGNING_KEY = f"{KEYS_DIR}/audit-signing.key"
PUBLIC_KEY = f"{KEYS_DIR}/audit-signing.key.pub"
PATROL_KEY = f"{KEYS_DIR}/patrol.key"


class BackupError(RuntimeError):
    """A backup that cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class _Snapshot:
    """The database as dumped, read in the dump's own snapshot."""

    revisions: list[str]
    tables: dict[str, int]
    audit_head: AuditHeadRecord
    blobs: dict[str, BlobTotals]
    server_version: str = ""
    dump_tool: str | None = None


def create_backup(
    settings: Settings, destination: Path, *, now: datetime, private_keys: bool = True, steps: Steps = QUIET
) -> Manifest:
    _check_destination(destination)
    staging = destination.with_name(f".{destination.name}.partial")
    if staging.exists():  # a run that died before: never finished, never used
        shutil.rmtree(staging)
    staging.mkdir(mode=0o700, parents=True)
    try:
        _sign_checkpoint(settings, now)
        files = _copy_files(settings, staging, private_keys=private_keys, steps=steps)
        file_name, snapshot = _dump(settings.database_url, staging, steps)
        manifest = Manifest(
            created_at=now,
            dialect="postgresql" if file_name == PG_DUMP_FILE else "sqlite",
            server_version=snapshot.server_version,
            dump_tool=snapshot.dump_tool,
            revisions=snapshot.revisions,
            tables=snapshot.tables,
            audit_head=snapshot.audit_head,
            blobs=snapshot.blobs,
            files=[describe_file(staging, file_name, "database"), *files],
        )
        (staging / file_name).chmod(0o600)  # the dump holds personal data (applicants, staff)
        write_manifest(staging, manifest)
        if destination.exists():
            destination.rmdir()  # empty, as checked
        os.replace(staging, destination)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, DBAPIError | sqlite3.Error | OSError):
            raise BackupError(
                f"备份失败, 未留下任何文件 backup failed, nothing left behind: {first_line(exc)}"
            ) from exc
        raise
    logger.info("backup written to %s (%d files)", destination, len(manifest.files))
    return manifest


def _check_destination(destination: Path) -> None:
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupError(f"{destination} 已存在且非空 exists and is not empty: name a new directory")


def _sign_checkpoint(settings: Settings, now: datetime) -> None:
    """A checkpoint over the current head, so the restore can be held to a signature this recent."""
    if settings.audit_checkpoint_dir is None or settings.audit_signing_key is None:
        logger.warning("no audit checkpoints configured: the backup's chain is verified without a signature")
        return
    engine = make_engine(settings.database_url)
    try:
        key = load_private_key(settings.audit_signing_key)
        with make_session_factory(engine)() as session:
            write_checkpoint(session, key=key, directory=settings.audit_checkpoint_dir, now=now)
    except (SigningKeyError, CheckpointError, OSError) as exc:
        raise BackupError(f"无法签署检查点 cannot sign a checkpoint: {exc}") from exc
    finally:
        engine.dispose()


def _copy_files(settings: Settings, staging: Path, *, private_keys: bool, steps: Steps) -> list[BackupFile]:
    wanted: list[tuple[Path, str, FileRole]] = []
    if settings.audit_checkpoint_dir is not None and settings.audit_checkpoint_dir.is_dir():
        for path in sorted(settings.audit_checkpoint_dir.glob("checkpoint-*.json")):
            wanted.append((path, f"{CHECKPOINTS_DIR}/{path.name}", "audit_checkpoint"))
    if settings.audit_signing_key is not None:
        wanted.append((public_path(settings.audit_signing_key), PUBLIC_KEY, "audit_public_key"))
        if private_keys:
            wanted.append((settings.audit_signing_key, SIGNING_KEY, "audit_signing_key"))
    if private_keys and settings.patrol_key_file is not None:
        wanted.append((settings.patrol_key_file, PATROL_KEY, "patrol_key"))
    files = []
    with steps.step("复制检查点与密钥 copying checkpoints and keys", total=len(wanted)) as step:
        for source, relative, role in wanted:
            target = staging / relative
            target.parent.mkdir(mode=0o700, exist_ok=True)
            try:
                shutil.copyfile(source, target)
            except OSError as exc:
                raise BackupError(f"无法复制 cannot copy {source}: {exc.strerror}") from exc
            if role in ("audit_signing_key", "patrol_key"):
                target.chmod(0o600)
            files.append(describe_file(staging, relative, role))
            step.advance()
    return files


def _dump(url: str, staging: Path, steps: Steps) -> tuple[str, _Snapshot]:
    if make_url(url).get_backend_name() == "postgresql":
        return PG_DUMP_FILE, _dump_postgres(url, staging / PG_DUMP_FILE, steps)
    return SQLITE_FILE, _copy_sqlite(url, staging / SQLITE_FILE, steps)


def _read(connection: Connection) -> _Snapshot:
    return _Snapshot(
        revisions=revisions(connection),
        tables=table_counts(connection),
        audit_head=audit_head(connection),
        blobs=blob_totals(connection),
    )


def _dump_postgres(url: str, out: Path, steps: Steps) -> _Snapshot:
    engine = make_engine(url)
    try:
        repeatable = engine.execution_options(isolation_level="REPEATABLE READ")
        with repeatable.connect() as connection, connection.begin():
            snapshot = str(connection.scalar(text("SELECT pg_export_snapshot()")))
            version = str(connection.scalar(text("SHOW server_version")))
            major = int(connection.scalar(text("SHOW server_version_num")) or 0) // 10000
            tool_line = pg_tools.require_major("pg_dump", at_least=major, why="this server")
            with steps.step("统计表行数 counting rows"):
                read = _read(connection)
            with steps.step("导出数据库 pg_dump") as step:
                pg_tools.dump(pg_tools.target(url), snapshot=snapshot, out=out, progress=step.reached)
    except pg_tools.PgToolError as exc:
        raise BackupError(str(exc)) from exc
    finally:
        engine.dispose()
    return replace(read, server_version=f"PostgreSQL {version}", dump_tool=tool_line)


def _copy_sqlite(url: str, out: Path, steps: Steps) -> _Snapshot:
    source = make_url(url).database or ""
    if not Path(source).is_file():
        raise BackupError(f"数据库文件不存在 no database file: {source}")
    with (
        steps.step("复制数据库 copying the SQLite database"),
        closing(sqlite3.connect(source)) as src,
        closing(sqlite3.connect(out)) as dst,
    ):
        src.backup(dst)  # a consistent copy, even while others write
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    engine = create_engine(f"sqlite:///{out}")  # plain: no WAL pragma that would touch the copy
    try:
        with engine.connect() as connection:
            read = _read(connection)
    finally:
        engine.dispose()
    return replace(read, server_version=f"SQLite {sqlite3.sqlite_version}")
