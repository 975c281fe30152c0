"""Is a backup whole, and is a database exactly what a backup holds?

`check_files` looks at the backup alone: every file's size and SHA-256 against the manifest (a
damaged, truncated or missing file is named), the dump readable by its own tool, and the signed
checkpoints verifying with the deployment's public key. `check_database` holds a database (a fresh
restore) to the manifest: the revision, every table's row count, the audit chain recomputed, at the
manifest's head and agreeing with every signed checkpoint, and every stored item's bytes."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import Connection

from central.audit.checkpoint import Checkpoint, CheckpointError, check_chain, load_checkpoints
from central.audit.signing import SigningKeyError, load_public_key
from central.audit.verify import verify
from central.ops.backup import pg_tools
from central.ops.backup.contents import audit_head, bad_blobs, blob_totals, revisions, table_counts
from central.ops.backup.create import PUBLIC_KEY
from central.ops.backup.manifest import CHECKPOINTS_DIR, MANIFEST, Manifest, sha256_file
from central.ops.backup.steps import QUIET, Steps
from central.ops.report import Check, Status, skipped

logger = logging.getLogger(__name__)

FILES = "备份文件 backup files"
DUMP = "数据库转储 database dump"
SIGNED = "签名检查点 signed checkpoints"
REVISION = "迁移版本 revision"
COUNTS = "表行数 row counts"
AUDIT = "审计链 audit chain"
BLOBS = "证据与附件 stored evidence"
DAMAGED = (
    "备份已损坏或被改动, 不要用它恢复: 换用另一份备份, 并查明存放处 — the backup is damaged or altered: do not restore "
    "it; take another copy and find out what happened to this one"
)
INCOMPLETE = (
    "恢复不完整: 删除该数据库, 从备份重新恢复; 仍不符则备份本身有问题 — the restore is incomplete: drop the database "
    "and restore again; if it still differs, the backup is at fault"
)


def check_files(
    directory: Path, manifest: Manifest, *, public_key: Path | None = None, steps: Steps = QUIET
) -> list[Check]:
    files = _files(directory, manifest, steps)
    dump = (
        _dump(directory, manifest)
        if files.status is Status.OK
        else skipped("dump", DUMP, "文件已损坏 files damaged")
    )
    return [files, dump, _signed(directory, manifest, public_key)]


def _files(directory: Path, manifest: Manifest, steps: Steps) -> Check:
    problems = []
    with steps.step("校验文件 checking files", total=sum(f.size for f in manifest.files)) as step:
        for entry in manifest.files:
            path = directory / entry.path
            if not path.is_file():
                problems.append(f"{entry.path}: 缺失 missing")
            elif path.stat().st_size != entry.size:
                problems.append(
                    f"{entry.path}: 大小不符 size {path.stat().st_size}, manifest {entry.size} (truncated?)"
                )
            elif sha256_file(path) != entry.sha256:
                problems.append(f"{entry.path}: sha256 不符 does not match the manifest (altered)")
            step.advance(entry.size)
    listed = {f.path for f in manifest.files} | {MANIFEST}
    extra = sorted(
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_file() and p.relative_to(directory).as_posix() not in listed
    )
    if problems:
        summary = f"{len(problems)} 个文件损坏或缺失 file(s) damaged or missing"
        return Check("files", FILES, Status.ERROR, summary, tuple(problems), DAMAGED)
    if extra:
        summary = f"{len(manifest.files)} 个文件完好, 另有清单外文件 files not in the manifest"
        hint = "清单外的文件不会被恢复; 查明来源 — files outside the manifest are not restored: find out where they came from"
        return Check("files", FILES, Status.WARNING, summary, tuple(extra), hint)
    total = sum(f.size for f in manifest.files)
    return Check(
        "files", FILES, Status.OK, f"{len(manifest.files)} 个文件 files, {total} 字节 bytes, sha256 一致"
    )


def _dump(directory: Path, manifest: Manifest) -> Check:
    path = directory / manifest.database_file.path
    try:
        if manifest.dialect == "postgresql":
            entries = pg_tools.list_contents(path)
            return Check("dump", DUMP, Status.OK, f"pg_restore 可读 readable: {entries} 项 entries")
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
    except (pg_tools.PgToolError, sqlite3.Error) as exc:
        return Check("dump", DUMP, Status.ERROR, f"无法读取 unreadable: {exc}", hint=DAMAGED)
    if verdict != "ok":
        return Check("dump", DUMP, Status.ERROR, f"SQLite integrity_check: {verdict}", hint=DAMAGED)
    return Check("dump", DUMP, Status.OK, "SQLite integrity_check: ok")


def signed_checkpoints(directory: Path, manifest: Manifest, public_key: Path | None) -> list[Checkpoint]:
    """The backup's checkpoints, each signature checked (CheckpointError, SigningKeyError otherwise)."""
    if not any(f.role == "audit_checkpoint" for f in manifest.files):
        return []
    key = public_key or directory / PUBLIC_KEY
    return load_checkpoints(directory / CHECKPOINTS_DIR, load_public_key(key))


def _signed(directory: Path, manifest: Manifest, public_key: Path | None) -> Check:
    try:
        checkpoints = signed_checkpoints(directory, manifest, public_key)
    except (CheckpointError, SigningKeyError) as exc:
        return Check("checkpoints", SIGNED, Status.ERROR, f"检查点不可信 refused: {exc}", hint=DAMAGED)
    if not checkpoints:
        hint = (
            "配置 HALLWATCH_AUDIT_CHECKPOINT_DIR 与 HALLWATCH_AUDIT_SIGNING_KEY, 备份时会先签一个检查点 — configure "
            "checkpoints: a backup then signs one first"
        )
        summary = (
            "备份中没有签名检查点: 审计链只能自证 no signed checkpoint, the chain vouches for itself only"
        )
        return Check("checkpoints", SIGNED, Status.WARNING, summary, hint=hint)
    latest = checkpoints[-1]
    whose = f"公钥 key {public_key}" if public_key else "备份自带的公钥 the backup's own public key"
    summary = f"{len(checkpoints)} 个签名有效 signatures verify ({whose}); 最新 latest seq {latest.seq}"
    if latest.seq > manifest.audit_head.seq:
        summary = f"最新检查点 seq {latest.seq} 超出备份的链头 beyond the backup's head seq {manifest.audit_head.seq}"
        return Check("checkpoints", SIGNED, Status.ERROR, summary, hint=DAMAGED)
    return Check("checkpoints", SIGNED, Status.OK, summary)


def check_database(
    connection: Connection, manifest: Manifest, checkpoints: list[Checkpoint], *, steps: Steps = QUIET
) -> list[Check]:
    return [
        _revision(connection, manifest),
        _counts(connection, manifest, steps),
        _audit(connection, manifest, checkpoints, steps),
        _blobs(connection, manifest, steps),
    ]


def _revision(connection: Connection, manifest: Manifest) -> Check:
    found = revisions(connection)
    if found != manifest.revisions:
        summary = f"数据库在 {found or '—'}, 备份在 {manifest.revisions} — database at {found}, backup at {manifest.revisions}"
        return Check("revision", REVISION, Status.ERROR, summary, hint=INCOMPLETE)
    return Check("revision", REVISION, Status.OK, ", ".join(found))


def _counts(connection: Connection, manifest: Manifest, steps: Steps) -> Check:
    with steps.step("统计表行数 counting rows"):
        found = table_counts(connection)
    differ = [
        f"{name}: 数据库 {found.get(name, '无表 no table')}, 备份 {manifest.tables.get(name, '无表 no table')}"
        for name in sorted(set(found) | set(manifest.tables))
        if found.get(name) != manifest.tables.get(name)
    ]
    if differ:
        summary = f"{len(differ)} 张表行数不符 table(s) differ from the manifest"
        return Check("counts", COUNTS, Status.ERROR, summary, tuple(differ), INCOMPLETE)
    rows = sum(found.values())
    return Check(
        "counts",
        COUNTS,
        Status.OK,
        f"{len(found)} 张表 tables, {rows} 行 rows, 与清单一致 as in the manifest",
    )


def _audit(connection: Connection, manifest: Manifest, checkpoints: list[Checkpoint], steps: Steps) -> Check:
    with steps.step("校验审计链 verifying the audit chain", total=manifest.audit_head.seq) as step:
        result = verify(connection, progress=lambda done, _total: step.reached(done))
    if result.bad is not None:
        bad = result.bad
        return Check(
            "audit", AUDIT, Status.ERROR, f"seq {bad.seq} {bad.reason}: {bad.detail}", hint=INCOMPLETE
        )
    head = audit_head(connection)
    if head != manifest.audit_head:
        summary = f"链头 seq {head.seq}, 备份为 seq {manifest.audit_head.seq} — the head is not the backup's"
        return Check("audit", AUDIT, Status.ERROR, summary, hint=INCOMPLETE)
    summary = f"{result.checked} 条完整 entries intact, 链头与清单一致 head as in the manifest"
    if checkpoints:
        held = check_chain(connection, result, checkpoints)
        if held.bad is not None:
            summary = f"与签名检查点不符 checkpoint mismatch: seq {held.bad.seq}: {held.bad.detail}"
            return Check("audit", AUDIT, Status.ERROR, summary, hint=INCOMPLETE)
        summary += f"; 与 {held.checkpoints} 个签名检查点一致 agrees with the signed checkpoints (至 seq {held.agreed_upto})"
    return Check("audit", AUDIT, Status.OK, summary)


def _blobs(connection: Connection, manifest: Manifest, steps: Steps) -> Check:
    totals = blob_totals(connection)
    differ = [
        f"{name}: {found.rows} 项 {found.bytes} 字节, 备份 {manifest.blobs[name].rows} 项 {manifest.blobs[name].bytes} 字节"
        for name, found in totals.items()
        if name in manifest.blobs and found != manifest.blobs[name]
    ]
    with steps.step("校验证据 hashing stored evidence", total=sum(t.bytes for t in totals.values())) as step:
        damaged = [f"{b.source} #{b.row_id}: {b.reason}" for b in bad_blobs(connection, advance=step.advance)]
    if differ or damaged:
        summary = f"{len(differ)} 类数量不符 totals differ, {len(damaged)} 项内容不符 items damaged"
        return Check("blobs", BLOBS, Status.ERROR, summary, tuple(differ + damaged), INCOMPLETE)
    items = sum(t.rows for t in totals.values())
    size = sum(t.bytes for t in totals.values())
    return Check(
        "blobs", BLOBS, Status.OK, f"{items} 项 items, {size} 字节 bytes, 每项 sha256 一致 each hashes right"
    )
