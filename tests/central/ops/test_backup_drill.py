"""Backups and the restore drill (issue 20 item 2), through the real CLI on the real database:
data written by production services (cases, device keys, an evidence snapshot, their audit entries,
a signed checkpoint) is backed up (pg_dump on PostgreSQL, SQLite's backup API on SQLite), restored
into a fresh empty database, and proven complete by the row counts, `hallwatch audit verify` against
the latest signed checkpoint and the evidence's own hashes. A damaged backup is caught before anything
is restored; a database that differs from its backup is named; a non-empty target is refused."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, inspect, select, table, text, update
from typer.testing import CliRunner

from central.cli.main import app
from central.core.db import make_engine
from central.ops.backup.manifest import describe_file, read_manifest, write_manifest
from central.video.models import EvidenceImage
from tests.central.cases.helpers import ev
from tests.central.devices.helpers import edge
from tests.central.ops.conftest import Deployment
from tests.central.video.helpers import astronaut_jpeg, evidence, shanghai, upload
from tests.conftest import FakeClock

__all__ = ["edge"]


def cli(deployment: Deployment, *args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=deployment.env(**env))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout + result.stderr


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
            return {n: int(conn.scalar(select(func.count()).select_from(table(n))) or 0) for n in names}
    finally:
        engine.dispose()


def seed(
    client: TestClient, clock: FakeClock, edge: dict[str, dict[str, str]], deployment: Deployment
) -> None:
    """Cases and an evidence snapshot through the real endpoints, then a signed checkpoint."""
    batch = [
        ev("a1", "C1", "received", "2026-11-23T09:00:00+08:00", window_code="W01", applicant_name="李四"),
        ev("a2", "C1", "accepted", "2026-11-23T09:30:00+08:00", staff_code="S001"),
        ev("b1", "C2", "accepted", "2026-11-24T10:00:00+08:00"),
    ]
    assert client.post("/api/v1/cases/events", json=batch).status_code == 200
    assert upload(client, edge["EDGE-P"], evidence(shanghai(clock, 9, 31)))["stored"] == 1
    code, said = cli(deployment, "audit", "checkpoint")
    assert code == 0, said


def backed_up(
    client: TestClient,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    deployment: Deployment,
    tmp_path: Path,
) -> Path:
    if deployment.settings.database_url.startswith("postgresql"):
        assert shutil.which("pg_dump"), "the drill needs PostgreSQL's client tools: make pgclient"
    seed(client, clock, edge, deployment)
    directory = tmp_path / "backup"
    code, said = cli(deployment, "backup", "create", str(directory))
    assert code == 0, said
    assert "备份完成" in said
    assert "备份含私钥" in said, "the private keys come with a warning"
    return directory


def test_the_restore_drill(
    client: TestClient,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    deployment: Deployment,
    fresh_database: str,
    tmp_path: Path,
) -> None:
    directory = backed_up(client, clock, edge, deployment, tmp_path)
    source = deployment.settings.database_url
    at_backup = counts(source)
    manifest = read_manifest(directory)
    assert manifest.tables == at_backup, "the manifest's counts are the database's at the backup"
    assert manifest.audit_head.seq > 0
    assert manifest.blobs["video_evidence_images"].rows == 1
    assert stat.S_IMODE((directory / "keys" / "audit-signing.key").stat().st_mode) == 0o600
    assert (
        client.post(
            "/api/v1/cases/events", json=[ev("c1", "C3", "accepted", "2026-11-25T09:00:00+08:00")]
        ).status_code
        == 200
    )

    code, said = cli(
        deployment, "backup", "restore", str(directory), "--database-url", fresh_database, "--json"
    )
    assert code == 0, said
    report = json.loads(said[said.index("{") :])
    assert {c["name"]: c["status"] for c in report["checks"]} == {
        "files": "ok",
        "dump": "ok",
        "checkpoints": "ok",
        "revision": "ok",
        "counts": "ok",
        "audit": "ok",
        "blobs": "ok",
    }, report
    restored = counts(fresh_database)
    assert restored == at_backup, "every table as it was at the backup, not as it is now"
    assert restored["cases"] == 2, "the case written after the backup is not in it"

    code, said = cli(
        deployment,
        "audit",
        "verify",
        "--checkpoint",
        str(directory / "checkpoints"),
        "--public-key",
        str(deployment.public_key),
        HALLWATCH_DATABASE_URL=fresh_database,
    )
    assert code == 0, said
    assert "签名检查点一致" in said, "the restored chain agrees with the latest signed checkpoint"
    engine = make_engine(fresh_database)
    with engine.connect() as conn:
        assert conn.scalar(select(EvidenceImage.jpeg)) == astronaut_jpeg(), "the snapshot's bytes came back"
    engine.dispose()

    code, said = cli(deployment, "backup", "restore", str(directory), "--database-url", source)
    assert code == 1, "a database in use is never restored over"
    assert "非空" in said
    assert counts(source)["cases"] == 3, "and it is left as it was"


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate_and_rewrite_manifest(directory: Path) -> None:
    """A dump cut short whose manifest was made to match: the dump's own reader must still refuse it."""
    manifest = read_manifest(directory)
    dump = directory / manifest.database_file.path
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size * 2 // 3])
    files = [describe_file(directory, f.path, f.role) if f.role == "database" else f for f in manifest.files]
    write_manifest(directory, manifest.model_copy(update={"files": files}))


DAMAGE: dict[str, Any] = {
    "altered checkpoint": (
        lambda d: _corrupt(next((d / "checkpoints").iterdir())),
        "files",
        "checkpoints/checkpoint-",
    ),
    "missing public key": (
        lambda d: (d / "keys" / "audit-signing.key.pub").unlink(),
        "files",
        "缺失 missing",
    ),
    "truncated dump": (
        lambda d: (d / read_manifest(d).database_file.path).write_bytes(b"PGDMP"),
        "files",
        "大小不符",
    ),
    "truncated dump, manifest rewritten": (_truncate_and_rewrite_manifest, "dump", "无法读取"),
}


def test_a_damaged_backup_is_refused_before_anything_is_restored(
    client: TestClient,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    deployment: Deployment,
    fresh_database: str,
    tmp_path: Path,
) -> None:
    directory = backed_up(client, clock, edge, deployment, tmp_path)
    for name, (damage, check, words) in DAMAGE.items():
        copy = tmp_path / name.replace(" ", "-").replace(",", "")
        shutil.copytree(directory, copy)
        damage(copy)
        code, said = cli(deployment, "backup", "verify", str(copy), "--json")
        assert code == 1, f"{name}: caught by backup verify"
        found = {c["name"]: c for c in json.loads(said[said.index("{") :])["checks"]}
        assert found[check]["status"] == "error", f"{name}: {found}"
        assert words in " ".join([found[check]["summary"], *found[check]["details"]]), (
            f"{name}: {found[check]}"
        )
        code, said = cli(deployment, "backup", "restore", str(copy), "--database-url", fresh_database)
        assert code == 1, f"{name}: refused by backup restore"
        assert "未恢复 nothing restored" in said, name
    if fresh_database.startswith("sqlite"):
        assert not Path(fresh_database.removeprefix("sqlite:///")).exists(), "nothing was written"
    else:
        engine = make_engine(fresh_database)
        with engine.connect() as conn:
            tables = conn.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            )
        engine.dispose()
        assert tables == 0, "nothing was written"


def test_a_restore_that_differs_from_its_backup_is_named(
    client: TestClient,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    deployment: Deployment,
    fresh_database: str,
    tmp_path: Path,
) -> None:
    directory = backed_up(client, clock, edge, deployment, tmp_path)
    code, said = cli(deployment, "backup", "restore", str(directory), "--database-url", fresh_database)
    assert code == 0, said
    engine = make_engine(fresh_database)
    with engine.begin() as conn:  # what a lost page or a partial copy does
        conn.execute(update(EvidenceImage).values(jpeg=astronaut_jpeg()[:-100]))
        conn.execute(text("DELETE FROM case_events WHERE event_id = 'b1'"))
    engine.dispose()
    code, said = cli(
        deployment, "backup", "verify", str(directory), "--database-url", fresh_database, "--json"
    )
    assert code == 1
    found = {c["name"]: c for c in json.loads(said[said.index("{") :])["checks"]}
    assert found["counts"]["status"] == "error"
    assert [d.split(":")[0] for d in found["counts"]["details"]] == ["case_events"]
    assert found["blobs"]["status"] == "error"
    assert any(d.startswith("video_evidence_images #") for d in found["blobs"]["details"]), found["blobs"]
    assert found["audit"]["status"] == "ok", "the audit chain itself was not touched"


@pytest.mark.parametrize("target", ["file", "directory"])
def test_a_backup_never_writes_over_anything(
    deployment: Deployment, tmp_path: Path, target: str, db: Engine
) -> None:
    existing = tmp_path / "old-backup"
    existing.mkdir()
    (existing / "keep.txt").write_text("x")
    path = existing / "keep.txt" if target == "file" else existing
    code, said = cli(deployment, "backup", "create", str(path))
    assert code == 1
    assert "已存在" in said
    assert (existing / "keep.txt").read_text() == "x"


def test_a_dump_that_fails_half_way_leaves_the_target_empty(
    client: TestClient,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    deployment: Deployment,
    fresh_database: str,
    tmp_path: Path,
) -> None:
    if not fresh_database.startswith("postgresql"):
        pytest.skip(
            "pg_restore's one transaction is PostgreSQL's (SQLite restores to a file renamed when whole)"
        )
    directory = backed_up(client, clock, edge, deployment, tmp_path)
    manifest = read_manifest(directory)
    dump = directory / manifest.database_file.path
    dump.write_bytes(dump.read_bytes()[:-50])  # the last table's data cut short; the contents list intact
    files = [describe_file(directory, f.path, f.role) if f.role == "database" else f for f in manifest.files]
    write_manifest(directory, manifest.model_copy(update={"files": files}))
    code, said = cli(deployment, "backup", "verify", str(directory))
    assert code == 0, f"the damage lies past what pg_restore --list reads: {said}"
    code, said = cli(deployment, "backup", "restore", str(directory), "--database-url", fresh_database)
    assert code == 1
    assert "pg_restore 失败" in said
    assert "the target was left empty" in said
    engine = make_engine(fresh_database)
    with engine.connect() as conn:
        tables = conn.scalar(
            text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        )
    engine.dispose()
    assert tables == 0, "one transaction: nothing of the failed restore stays"
