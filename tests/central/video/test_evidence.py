"""Evidence snapshots and SC-18: metadata for inspectors of the jurisdiction, the JPEG only with an
approved evidence_view grant (filed and decided through the approvals API, the hall coming from the
stored evidence), every view audited and never cached; expired snapshots answer 410 Gone, and the
retention purge (service and `hallwatch evidence purge`) deletes their bytes with one audit entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from central.audit.chain import verify
from central.audit.models import AuditEntry
from central.cli.main import app
from central.core.config import Settings
from central.core.db import make_session_factory
from central.video.evidence import purge_expired_evidence
from central.video.jobs import evidence_purge_job
from central.video.models import Evidence, EvidenceImage
from tests.central.video.helpers import (
    HALL,
    World,
    absence,
    astronaut_jpeg,
    edge,
    evidence,
    shanghai,
    upload,
    world,
)
from tests.conftest import FakeClock

__all__ = ["edge", "world"]

APPROVALS = "/api/v1/approvals"


def stored_evidence(client: TestClient, world: World, clock: FakeClock) -> int:
    shot = evidence(shanghai(clock, 9, 31))
    body = upload(
        client, world.headers["EDGE-P"], shot, absence(shanghai(clock, 9, 20), evidence=[shot["id"]])
    )
    assert body["stored"] == 2, body
    found = client.get("/api/v1/video/absences", auth=world.people["inspector"]).json()["items"][0][
        "evidence"
    ]
    return int(found[0]["id"])


def grant(
    client: TestClient, world: World, evidence_id: int, *, who: str = "inspector", kind: str = "evidence_view"
) -> None:
    asked = client.post(
        APPROVALS,
        json={"kind": kind, "target": str(evidence_id), "reason": "核实离岗"},
        auth=world.people[who],
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["hall_code"] == HALL  # located from the stored evidence, not from the request
    approved = client.post(f"{APPROVALS}/{asked.json()['id']}/approve", auth=world.people["approver"])
    assert approved.status_code == 200, approved.text


def audit_actions(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_metadata_for_inspectors_of_the_jurisdiction_only(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    evidence_id = stored_evidence(client, world, clock)
    r = client.get(f"/api/v1/evidence/{evidence_id}", auth=world.people["inspector"])
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert (body["window_code"], body["width"], body["height"], body["may_view"]) == ("W01", 320, 320, False)
    assert len(body["absence_ids"]) == 1 and body["image_url"] == f"/api/v1/evidence/{evidence_id}/image"
    assert client.get(f"/api/v1/evidence/{evidence_id}", auth=world.people["county"]).status_code == 404
    assert client.get(f"/api/v1/evidence/{evidence_id}", auth=world.people["clerk"]).status_code == 403
    assert client.get("/api/v1/evidence/999999", auth=world.people["inspector"]).status_code == 404


def test_the_image_needs_an_approved_grant_and_every_view_is_audited(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    evidence_id = stored_evidence(client, world, clock)
    image = f"/api/v1/evidence/{evidence_id}/image"
    refused = client.get(image, auth=world.people["inspector"])
    assert refused.status_code == 403
    assert "审批" in refused.json()["detail"] and "申请" in refused.json()["detail"]
    grant(client, world, evidence_id)
    shown = client.get(image, auth=world.people["inspector"])
    assert shown.status_code == 200
    assert shown.content == astronaut_jpeg()
    assert shown.headers["content-type"] == "image/jpeg" and shown.headers["cache-control"] == "no-store"
    assert client.get(image, auth=world.people["inspector"]).status_code == 200
    views = audit_actions(session, "evidence.view")
    assert [(v.actor, v.target_id) for v in views] == [("user:inspector", str(evidence_id))] * 2
    assert client.get(image, params={"download": "true"}, auth=world.people["inspector"]).status_code == 403
    assert client.get(image, auth=world.people["approver"]).status_code == 403  # the grant is the requester's
    assert client.get(f"/api/v1/evidence/{evidence_id}", auth=world.people["inspector"]).json()["may_view"]
    assert verify(session).ok


def test_an_export_grant_allows_the_download(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    evidence_id = stored_evidence(client, world, clock)
    grant(client, world, evidence_id, kind="evidence_export")
    r = client.get(
        f"/api/v1/evidence/{evidence_id}/image", params={"download": "true"}, auth=world.people["inspector"]
    )
    assert r.status_code == 200
    assert r.headers["content-disposition"] == f'attachment; filename="evidence-{evidence_id}.jpg"'
    assert [e.target_id for e in audit_actions(session, "evidence.export")] == [str(evidence_id)]


def test_unknown_evidence_cannot_be_requested(client: TestClient, world: World) -> None:
    asked = client.post(
        APPROVALS,
        json={"kind": "evidence_view", "target": "424242", "reason": "x"},
        auth=world.people["inspector"],
    )
    assert asked.status_code == 404


def test_expired_evidence_is_gone_and_the_purge_deletes_its_bytes_once(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    evidence_id = stored_evidence(client, world, clock)
    grant(client, world, evidence_id)
    clock.advance(days=180)  # the default profile keeps evidence 180 days after it was taken
    image = f"/api/v1/evidence/{evidence_id}/image"
    gone = client.get(image, auth=world.people["inspector"])
    assert gone.status_code == 410 and "expired" in gone.json()["detail"]
    assert client.get(f"/api/v1/evidence/{evidence_id}", auth=world.people["inspector"]).status_code == 410
    assert purge_expired_evidence(session, now=clock()) == 1
    session.commit()
    assert session.scalar(select(func.count(EvidenceImage.evidence_id))) == 0
    row = session.get(Evidence, evidence_id)
    assert row is not None and row.purged_at is not None  # the metadata stays: 410, not 404
    assert client.get(image, auth=world.people["inspector"]).status_code == 410
    assert purge_expired_evidence(session, now=clock()) == 0
    session.commit()
    purges = audit_actions(session, "evidence.purge")
    assert len(purges) == 1 and '"purged":1' in (purges[0].after or "")
    listed = client.get("/api/v1/video/absences", auth=world.people["inspector"]).json()["items"][0]
    assert listed["evidence"][0]["gone"] is True
    assert verify(session).ok


def test_only_expired_evidence_is_purged(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    older = stored_evidence(client, world, clock)
    clock.advance(days=10)
    upload(client, world.headers["EDGE-P"], evidence(clock() - timedelta(minutes=1)))
    assert purge_expired_evidence(session, now=clock() + timedelta(days=175)) == 1
    session.commit()
    remaining = session.scalars(select(EvidenceImage.evidence_id)).all()
    assert older not in remaining and len(remaining) == 1


def test_the_cli_purges_what_has_expired(
    client: TestClient, world: World, session: Session, clock: FakeClock, settings: Settings
) -> None:
    evidence_id = stored_evidence(client, world, clock)
    session.execute(update(Evidence).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    session.commit()
    result = CliRunner().invoke(
        app, ["evidence", "purge"], env={"HALLWATCH_DATABASE_URL": settings.database_url}
    )
    assert result.exit_code == 0, result.output
    assert "purged 1 expired evidence snapshots" in result.stdout
    session.expire_all()
    assert session.get(EvidenceImage, evidence_id) is None
    assert audit_actions(session, "evidence.purge")[0].actor.startswith("cli:")


def test_the_background_job_purges_expired_evidence(
    client: TestClient, world: World, session: Session, clock: FakeClock, db: Engine, settings: Settings
) -> None:
    evidence_id = stored_evidence(client, world, clock)
    job = evidence_purge_job(interval=300)

    def run_once() -> None:
        job.run(make_session_factory(db), clock, settings)

    run_once()
    session.expire_all()
    assert session.get(EvidenceImage, evidence_id) is not None  # not expired yet
    clock.advance(days=181)
    run_once()
    session.expire_all()
    assert session.get(EvidenceImage, evidence_id) is None
    assert audit_actions(session, "evidence.purge")[0].actor == "system:evidence-retention"
