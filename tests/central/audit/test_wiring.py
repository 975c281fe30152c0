"""The writes that exist leave audit entries, and `hallwatch audit verify` tells intact from tampered."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from central.audit.chain import verify
from central.audit.models import AuditEntry
from central.core.config import Settings
from tests.central.audit.helpers import build_chain
from tests.central.cases.helpers import ev
from tests.central.registry.helpers import EXAMPLE
from tests.conftest import SignedIn, make_user


def entries(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(
        session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))
    )


def loaded(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def test_posting_events_leaves_one_entry_per_case(client: TestClient, registry, session: Session) -> None:
    batch = [
        ev("a1", "C1", "received", "2026-11-02T09:00:00+08:00"),
        ev("a2", "C1", "accepted", "2026-11-02T09:30:00+08:00"),
        ev("b1", "C2", "accepted", "2026-11-03T09:00:00+08:00"),
    ]
    assert client.post("/api/v1/cases/events", json=batch).status_code == 200
    first = entries(session, "case.events.stored")
    assert [(e.target_type, e.target_id) for e in first] == [("case", "C1"), ("case", "C2")]
    assert first[0].actor.startswith("user:") and first[0].remote_addr == "testclient"
    assert loaded(first[0].before) is None
    assert loaded(first[0].after) == {
        "status": "accepted",
        "events": [{"event_id": "a1", "type": "received"}, {"event_id": "a2", "type": "accepted"}],
    }

    # A duplicate writes nothing, so it is not audited; a rejected batch neither.
    assert client.post("/api/v1/cases/events", json=[batch[0]]).status_code == 200
    impossible = ev("c1", "C1", "received", "2026-11-02T08:00:00+08:00")
    assert client.post("/api/v1/cases/events", json=[impossible]).status_code == 409
    assert len(entries(session, "case.events.stored")) == 2

    later = ev("a3", "C1", "undertaken", "2026-11-04T09:00:00+08:00")
    assert client.post("/api/v1/cases/events", json=[later]).status_code == 200
    last = entries(session, "case.events.stored")[-1]
    assert (last.target_id, loaded(last.before)) == ("C1", {"status": "accepted"})
    assert loaded(last.after)["status"] == "undertaken"
    assert verify(session).ok


def test_entering_a_calendar_year_records_before_and_after(
    client: TestClient, session: Session, db: Engine
) -> None:
    year = {"year": 2027, "holidays": ["2027-01-01"], "workdays": [], "note": "初录"}
    assert client.post("/api/v1/calendar/years", json=year).status_code == 201
    corrected = {"holidays": ["2027-01-01", "2027-02-08"], "workdays": ["2027-02-20"], "note": "更正"}
    assert client.post("/api/v1/calendar/years", json={"year": 2027, **corrected}).status_code == 409
    asked = client.post(
        "/api/v1/approvals",
        json={"kind": "calendar_replace", "target": "2027", "payload": corrected, "reason": "更正通知"},
    )
    assert asked.status_code == 201, asked.text
    client.auth = SignedIn("root2", make_user(db, "root2"))  # a replacement needs someone else's yes
    assert client.post(f"/api/v1/approvals/{asked.json()['id']}/approve", json={}).status_code == 200
    first, second = entries(session, "calendar.year_entered")
    assert (first.target_type, first.target_id, loaded(first.before)) == ("calendar_year", "2027", None)
    assert loaded(first.after) == {
        "year": 2027,
        "source": "administrator",
        "holidays": ["2027-01-01"],
        "workdays": [],
        "note": "初录",
    }
    assert loaded(second.before) == loaded(first.after)
    assert loaded(second.after)["holidays"] == ["2027-01-01", "2027-02-08"]
    # Refused entries (an official year) write nothing.
    assert (
        client.post("/api/v1/calendar/years", json={"year": 2026, "holidays": ["2026-01-01"]}).status_code
        == 409
    )
    assert len(entries(session, "calendar.year_entered")) == 2


def test_a_registry_import_records_its_counts(client: TestClient, session: Session) -> None:
    headers = {"content-type": "application/yaml"}
    assert (
        client.post("/api/v1/registry/import", content=EXAMPLE.encode(), headers=headers).status_code == 200
    )
    (entry,) = entries(session, "registry.imported")
    assert (entry.target_type, entry.target_id) == ("registry", "api")
    after = loaded(entry.after)
    assert after["regions"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert after["items"]["created"] == 1


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"HALLWATCH_DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    command = [sys.executable, "-m", "central.cli", "audit", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_cli_verify_exits_0_then_1_after_tampering(attacker: Engine, settings: Settings) -> None:
    build_chain(attacker)
    result = _cli(settings, "verify")
    assert result.returncode == 0, result.stderr
    assert "审计链完整: 6 条" in result.stdout
    shown = _cli(settings, "show", "--last", "2")
    assert shown.returncode == 0 and "C6" in shown.stdout and "C4" not in shown.stdout

    with attacker.begin() as conn:  # as someone with database access would, past the dropped trigger
        conn.execute(text("UPDATE audit_entries SET target_id = 'C9' WHERE seq = 4"))
    result = _cli(settings, "verify")
    assert result.returncode == 1
    assert "seq 4" in result.stderr and "altered" in result.stderr
    assert "case.events.stored" in result.stderr and "2026-11-27 10:04:00" in result.stderr
