"""Signed checkpoints of the audit head (issue #13 item 9): a database administrator who rewrites
or cuts the tail and moves the head passes `audit verify`, but not `audit verify --checkpoint`."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, delete, insert, text
from typer.testing import CliRunner

from central.app import create_app
from central.audit.chain import record
from central.audit.checkpoint import CheckpointError, load_checkpoints, write_checkpoint
from central.audit.signing import SigningKeyError, generate_key, load_private_key, load_public_key
from central.cli.main import app
from central.core.config import Settings
from central.core.db import make_session_factory
from tests.central.audit.helpers import ALICE, ENTRIES, N, build_chain, forged, rows


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private = tmp_path / "keys" / "audit.key"
    private.parent.mkdir()
    result = CliRunner().invoke(app, ["audit", "keygen", str(private)])
    assert result.exit_code == 0, result.output
    return private, private.with_name("audit.key.pub")


def _env(settings: Settings, directory: Path, key: Path) -> dict[str, str]:
    return {
        "HALLWATCH_DATABASE_URL": settings.database_url,
        "HALLWATCH_AUDIT_CHECKPOINT_DIR": str(directory),
        "HALLWATCH_AUDIT_SIGNING_KEY": str(key),
    }


def _checkpoint(settings: Settings, directory: Path, key: Path) -> None:
    result = CliRunner().invoke(app, ["audit", "checkpoint"], env=_env(settings, directory, key))
    assert result.exit_code == 0, result.output


def _verify(settings: Settings, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["audit", "verify", *extra], env={"HALLWATCH_DATABASE_URL": settings.database_url}
    )
    return result.exit_code, result.stdout + result.stderr


def _rewrite_tail_from(conn: Any, first: int) -> None:
    """What someone with database rights does: forge entries first..N with fresh hashes, move the head."""
    found = rows(conn)
    prev = found[first - 2]["hash"]
    conn.execute(delete(ENTRIES).where(ENTRIES.c.seq >= first))
    for seq in range(first, N + 1):
        row = forged(seq, prev)
        conn.execute(insert(ENTRIES).values(**row))
        prev = row["hash"]
    conn.execute(text("UPDATE audit_head SET seq = :seq, hash = :hash"), {"seq": N, "hash": prev})


def test_keygen_writes_an_owner_only_key_and_never_overwrites_it(keys: tuple[Path, Path]) -> None:
    private, public = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert (
        load_public_key(public).public_bytes_raw()
        == load_private_key(private).public_key().public_bytes_raw()
    )
    again = CliRunner().invoke(app, ["audit", "keygen", str(private)])
    assert again.exit_code == 2 and "never overwritten" in again.output
    private.chmod(0o644)
    with pytest.raises(SigningKeyError, match="readable by others"):
        load_private_key(private)


def test_a_rewritten_tail_passes_verify_but_not_the_checkpoints(
    db: Engine, attacker: Engine, settings: Settings, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = keys
    directory = tmp_path / "checkpoints"
    build_chain(db, n=3)
    _checkpoint(settings, directory, private)  # seq 3
    with make_session_factory(db)() as session:  # three more, then the seq-6 checkpoint
        for i in range(4, N + 1):
            record(
                session,
                actor=ALICE,
                action="case.events.stored",
                target_type="case",
                target_id=f"C{i}",
                at=datetime(2026, 11, 27, 3, i, tzinfo=UTC),
            )
        session.commit()
    _checkpoint(settings, directory, private)
    _checkpoint(settings, directory, private)  # the head did not move: no third file
    assert len(list(directory.glob("checkpoint-*.json"))) == 2

    with attacker.begin() as conn:
        _rewrite_tail_from(conn, 5)
    code, out = _verify(settings)
    assert code == 0 and f"审计链完整: {N} 条" in out  # the chain alone cannot tell

    code, out = _verify(settings, "--checkpoint", str(directory), "--public-key", str(public))
    assert code == 1
    assert f"seq {N} 与签名检查点不符 checkpoint mismatch" in out
    assert "the chain was rewritten after seq 3" in out
    latest = max(directory.glob("checkpoint-*.json"))
    code, out = _verify(settings, "--checkpoint", str(latest), "--public-key", str(public))
    assert code == 1 and f"entry {N} does not hash to the head" in out


def test_a_cut_tail_is_caught_by_a_checkpoint(
    db: Engine, attacker: Engine, settings: Settings, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = keys
    directory = tmp_path / "checkpoints"
    build_chain(db)
    _checkpoint(settings, directory, private)
    with attacker.begin() as conn:
        found = rows(conn)
        conn.execute(delete(ENTRIES).where(ENTRIES.c.seq > 4))
        conn.execute(text("UPDATE audit_head SET seq = 4, hash = :hash"), {"hash": found[3]["hash"]})
    assert _verify(settings)[0] == 0
    code, out = _verify(settings, "--checkpoint", str(directory), "--public-key", str(public))
    assert code == 1
    assert "seq 5 与签名检查点不符" in out and f"covers seq {N}, but the chain ends at seq 4" in out


def test_a_forged_or_foreign_checkpoint_is_refused(
    db: Engine, settings: Settings, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = keys
    directory = tmp_path / "checkpoints"
    build_chain(db)
    _checkpoint(settings, directory, private)
    assert _verify(settings, "--checkpoint", str(directory), "--public-key", str(public))[0] == 0
    file = next(directory.glob("checkpoint-*.json"))
    body = json.loads(file.read_text())
    file.write_text(json.dumps({**body, "head_hash": "b" * 64}))  # the attacker edits the signed head
    code, out = _verify(settings, "--checkpoint", str(directory), "--public-key", str(public))
    assert code == 1 and "signature does not verify" in out

    other = tmp_path / "other.key"
    generate_key(other)
    file.unlink()
    with make_session_factory(db)() as session:  # signed, but by a key that is not the deployment's
        write_checkpoint(session, key=load_private_key(other), directory=directory, now=datetime.now(UTC))
    with pytest.raises(CheckpointError, match="not by the given key"):
        load_checkpoints(directory, load_public_key(public))


def test_serve_signs_the_head_on_its_schedule(
    db: Engine, settings: Settings, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = keys
    directory = tmp_path / "served"
    build_chain(db)
    served = settings.model_copy(
        update={
            "audit_checkpoint_dir": directory,
            "audit_signing_key": private,
            "audit_checkpoint_interval_seconds": 3600,
        }
    )
    with TestClient(create_app(served, engine=db)) as client:
        jobs = client.app.state.jobs  # type: ignore[attr-defined]
        assert jobs.alive and jobs.names == ["audit-checkpoints"]
        jobs.run_now("audit-checkpoints")  # the pass the thread runs every interval, run here: no wait
    [checkpoint] = load_checkpoints(directory, load_public_key(public))
    with db.connect() as conn:
        assert (checkpoint.seq, checkpoint.head_hash) == (N, rows(conn)[-1]["hash"])


def test_the_directory_and_the_key_are_set_together(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="together"):
        Settings(audit_checkpoint_dir=tmp_path)
