"""A patrol finding's capture at central: `request_capture` queues the `patrol_capture` command the
hall's agent long-polls; the clip it sends (`clip`, WebM) is checked byte by byte before it is stored
as evidence of media type video/webm — each bad upload a clear rejection, nothing stored — and served
through the evidence route (SC-18 grant) with its media type; `captured_evidence` finds the snapshot
and the clip by the capture's reference. The WebM is made by the edge's own encoder and muxer."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import av
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.registry.models import Hall
from central.video.capture import captured_evidence, request_capture
from central.video.models import Evidence, EvidenceImage
from tests.central.devices.helpers import COMMANDS
from tests.central.video.helpers import (
    HALL,
    World,
    astronaut_jpeg,
    clip,
    details,
    edge,
    evidence,
    outcomes,
    shanghai,
    upload,
    webm,
    world,
)
from tests.central.video.test_evidence import grant
from tests.conftest import FakeClock

__all__ = ["edge", "world"]


def decoded_frames(data: bytes) -> list[tuple[int, int]]:
    with av.open(io.BytesIO(data), format="matroska") as container:
        return [(f.width, f.height) for f in container.decode(video=0)]


def test_a_clip_is_stored_as_webm_evidence_once(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    item = clip(shanghai(clock, 9, 30))
    body = upload(client, world.headers["EDGE-P"], item)
    assert outcomes(body) == ["stored"], body
    again = upload(client, world.headers["EDGE-P"], item)
    assert outcomes(again) == ["duplicate"]
    [stored] = session.scalars(select(Evidence)).all()
    assert (stored.media_type, stored.capture, stored.duration_ms, stored.reason) == (
        "video/webm",
        "finding-12",
        1800,
        "patrol_finding",
    )
    assert stored.taken_at == shanghai(clock, 9, 29, 58)  # the first frame's moment
    assert (stored.width, stored.height, stored.size_bytes) == (320, 180, len(webm()))
    # the same retention as snapshots: presence.evidence_retention_days (180) after it was taken
    assert stored.expires_at == stored.taken_at + timedelta(days=180)
    image = session.get(EvidenceImage, stored.id)
    assert image is not None and image.jpeg == webm()
    assert decoded_frames(image.jpeg) == [(320, 180)] * 10


@pytest.fixture
def truncated() -> bytes:
    return webm()[:200]  # the header and the start of the first cluster


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        pytest.param({"webm_base64": "not base64!"}, "not valid base64", id="bad base64"),
        pytest.param({"sha256": "0" * 64}, "sha256 mismatch", id="wrong sha256"),
        pytest.param({"data": astronaut_jpeg()}, "not a WebM file", id="a JPEG, not WebM"),
        pytest.param({"data": b"\x1a\x45\xdf\xa3" + b"\x00" * 20}, "the clip has 24 bytes", id="too small"),
        pytest.param(
            {"data": b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 4},
            "the clip does not decode",
            id="undecodable",
        ),
        pytest.param({"data": "truncated"}, "the clip does not decode", id="truncated"),
        pytest.param({"size": (640, 360)}, "the clip is 320x180, the item says 640x360", id="size mismatch"),
        pytest.param({"size": (16384, 16384)}, "more than 40000000", id="a gigapixel claim"),
    ],
)
def test_a_bad_clip_is_rejected_and_nothing_is_stored(
    client: TestClient,
    world: World,
    session: Session,
    clock: FakeClock,
    truncated: bytes,
    change: dict[str, Any],
    detail: str,
) -> None:
    fields = {k: truncated if v == "truncated" else v for k, v in change.items() if k != "webm_base64"}
    item = clip(shanghai(clock, 9, 30), **fields) | {k: v for k, v in change.items() if k == "webm_base64"}
    body = upload(client, world.headers["EDGE-P"], item)
    assert outcomes(body) == ["rejected"], body
    [said] = details(body)
    assert said is not None and detail in said, said
    assert session.scalar(select(func.count()).select_from(Evidence)) == 0
    assert session.scalar(select(func.count()).select_from(EvidenceImage)) == 0


def test_a_clip_of_an_unknown_window_or_from_the_future_is_rejected(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    body = upload(
        client,
        world.headers["EDGE-P"],
        clip(shanghai(clock, 9, 30), window="W99"),
        clip(clock() + timedelta(hours=1)),
    )
    assert outcomes(body) == ["rejected", "rejected"]
    assert "W99" in (details(body)[0] or "") and "ahead of central's clock" in (details(body)[1] or "")


def test_the_clip_is_served_with_its_media_type_only_with_a_grant(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    upload(client, world.headers["EDGE-P"], clip(shanghai(clock, 9, 30)))
    evidence_id = session.scalars(select(Evidence.id)).one()
    meta = client.get(f"/api/v1/evidence/{evidence_id}", auth=world.people["inspector"]).json()
    assert (meta["media_type"], meta["capture"], meta["duration_ms"]) == ("video/webm", "finding-12", 1800)
    image = f"/api/v1/evidence/{evidence_id}/image"
    assert client.get(image, auth=world.people["inspector"]).status_code == 403  # SC-18 unchanged
    grant(client, world, evidence_id)
    shown = client.get(image, auth=world.people["inspector"])
    assert shown.status_code == 200 and shown.headers["content-type"] == "video/webm"
    assert decoded_frames(shown.content) == [(320, 180)] * 10
    grant(client, world, evidence_id, kind="evidence_export")
    saved = client.get(image, params={"download": "true"}, auth=world.people["inspector"])
    assert saved.headers["content-disposition"] == f'attachment; filename="evidence-{evidence_id}.webm"'


def test_a_requested_capture_reaches_the_agent_and_what_arrived_is_found_by_its_reference(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    hall_id = session.scalars(select(Hall.id).where(Hall.code == HALL)).one()
    finding = shanghai(clock, 9, 30)
    command_id = request_capture(
        session,
        hall_id=hall_id,
        camera="cam-1",
        window="W01",
        capture="finding-12",
        at=finding,
        clip_seconds=10,
        now=clock(),
    )
    session.commit()
    page = client.get(COMMANDS, params={"after": 0, "wait": 0}, headers=world.headers["EDGE-P"]).json()
    assert [(c["id"], c["kind"], c["capture"], c["clip_seconds"]) for c in page["commands"]] == [
        (command_id, "patrol_capture", "finding-12", 10)
    ]
    assert captured_evidence(session, capture="finding-12") == []

    snapshot = evidence(finding, reason="patrol_finding") | {"capture": "finding-12"}
    other = evidence(finding + timedelta(seconds=1), reason="patrol_finding") | {"capture": "finding-13"}
    body = upload(client, world.headers["EDGE-P"], snapshot, clip(finding), other)
    assert outcomes(body) == ["stored"] * 3, body
    session.expire_all()
    found = captured_evidence(session, capture="finding-12")
    assert [(e.media_type, e.capture) for e in found] == [
        ("video/webm", "finding-12"),  # dated by its first frame, before the snapshot
        ("image/jpeg", "finding-12"),
    ]
    with pytest.raises(ValidationError):
        request_capture(
            session,
            hall_id=hall_id,
            camera="cam-1",
            window="W01",
            capture="finding-12",
            at=finding,
            clip_seconds=31,
            now=clock(),
        )
