"""`hallwatch devices keys issue|rotate|revoke CODE`: the operators' commands beside the page and the API.

The key is printed once on standard output, works at central at once, and every change is audited
with the shell's user as the actor (issue #19, item 5)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from central.audit.models import AuditEntry
from central.cli.main import app
from central.core.config import Settings
from central.devices.keys import KEY_FORMAT
from central.registry.models import Device


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, registry, session: Session) -> CliRunner:
    monkeypatch.setenv("HALLWATCH_DATABASE_URL", settings.database_url)
    session.add(Device(code="EDGE-P", kind="edge", name="省中心边缘盒", hall_id=registry["hall"]))
    session.commit()
    return CliRunner()


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, ["devices", *args])
    return result.exit_code, result.stdout, result.stderr


def device_me(anon: TestClient, key: str) -> int:
    return anon.get("/api/v1/device/me", headers={"X-Device-Key": key}).status_code


def audited(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_issue_prints_the_key_once_and_it_works_at_once(cli: CliRunner, anon: TestClient, session) -> None:
    code, out, err = run(cli, "keys", "issue", "EDGE-P")
    assert code == 0, err
    key = out.strip()
    assert KEY_FORMAT.fullmatch(key) and out.count("hwk_") == 1  # the key alone on stdout
    assert key not in err and "只显示这一次" in err
    assert device_me(anon, key) == 200
    [entry] = audited(session, "device_key.issued")
    assert entry.actor.startswith("cli:") and entry.target_id == "EDGE-P"
    code, out, _ = run(cli, "list")
    assert code == 0 and "EDGE-P" in out and key.split("_")[1] in out


def test_rotate_revokes_the_old_keys_and_revoke_refuses_at_once(
    cli: CliRunner, anon: TestClient, session
) -> None:
    first = run(cli, "keys", "issue", "EDGE-P")[1].strip()
    second = run(cli, "keys", "issue", "EDGE-P")[1].strip()
    code, out, _ = run(cli, "keys", "rotate", "EDGE-P")
    rotated = out.strip()
    assert code == 0 and rotated not in (first, second)
    assert [device_me(anon, k) for k in (first, second, rotated)] == [401, 401, 200]
    assert len(audited(session, "device_key.revoked")) == 2
    assert len(audited(session, "device_key.rotated")) == 1

    code, _, err = run(cli, "keys", "revoke", "EDGE-P", "--key-id", "0123456789abcdef")
    assert code == 2 and "0123456789abcdef" in err  # no such active key: said, nothing changed
    assert device_me(anon, rotated) == 200
    code, _, err = run(cli, "keys", "revoke", "EDGE-P")
    assert code == 0 and "1" in err
    assert device_me(anon, rotated) == 401
    assert len(audited(session, "device_key.revoked")) == 3


def test_an_unknown_device_is_named_and_nothing_is_written(cli: CliRunner, session) -> None:
    for command in ("issue", "rotate", "revoke"):
        code, out, err = run(cli, "keys", command, "EDGE-NOPE")
        assert code == 2 and "EDGE-NOPE" in err and out == ""
    assert audited(session, "device_key.issued") == []
