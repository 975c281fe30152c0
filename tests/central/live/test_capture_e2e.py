"""A patrol finding's capture end to end: a real central under uvicorn, a real edge agent with a
generated camera and live view on, an inspector's aiortc viewer watching the camera's focus view
through central. `request_capture` (what the patrols domain calls on a finding) reaches the agent
over its channel; the agent puts a masked snapshot and the clip of the seconds before the finding
into its outbox and uploads them; `captured_evidence` finds a JPEG and a WebM, and the WebM served
through the evidence route (with an approved grant, SC-18) decodes. An agent without live view still
sends the snapshot. Only loopback; no timing assertions."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path

import av
import httpx
from sqlalchemy import Engine, select

from central.core.db import make_session_factory
from central.registry.models import Hall
from central.video.capture import captured_evidence, request_capture
from central.video.models import Evidence
from edge.live.probe import ProbeViewer
from tests.central.devices.helpers import edge
from tests.central.live.helpers import OFFER, PROVINCIAL, offer, people
from tests.central.live.test_live_e2e import (
    LIVE_ON,
    WAIT_S,
    agent,
    camera_online_at_central,
    central,
    real_time,
)
from tests.conftest import FakeClock, SignedIn
from tests.edge.contract import wait_until

__all__ = ["central", "edge", "people", "real_time"]
APPROVALS = "/api/v1/approvals"


async def watch_and_capture(url: str, who: SignedIn, db: Engine, clock: FakeClock, ref: str) -> None:
    """An inspector watches CAM-1's focus view through central; once frames arrive, the finding."""
    probe = ProbeViewer()
    try:
        async with httpx.AsyncClient(base_url=url, auth=who, trust_env=False, timeout=WAIT_S + 30) as api:
            answer = await api.post(OFFER, json=offer(profile="focus", sdp=await probe.offer()))
            assert answer.status_code == 200, answer.text
            await probe.accept(answer.json()["sdp"])
        assert await probe.wait_frames(20, WAIT_S) >= 20
        await asyncio.to_thread(capture, db, clock, ref=ref, at=datetime.now(UTC))
        await asyncio.to_thread(
            wait_until,
            lambda: len(arrived(db, ref)) == 2,
            what="snapshot and clip at central",
            timeout=WAIT_S,
        )
    finally:
        await probe.close()


def capture(db: Engine, clock: FakeClock, *, ref: str, at: datetime) -> int:
    with make_session_factory(db)() as session:
        hall_id = session.scalars(select(Hall.id).where(Hall.code == PROVINCIAL)).one()
        command_id = request_capture(
            session,
            hall_id=hall_id,
            camera="CAM-1",
            window="W01",
            capture=ref,
            at=at,
            clip_seconds=3,
            now=clock(),
        )
        session.commit()
    return command_id


def arrived(db: Engine, ref: str) -> list[tuple[str, int, int]]:
    with make_session_factory(db)() as session:
        return [(e.media_type, e.width, e.height) for e in captured_evidence(session, capture=ref)]


def granted_bytes(url: str, people: dict[str, SignedIn], evidence_id: int) -> httpx.Response:
    with httpx.Client(base_url=url, trust_env=False, timeout=WAIT_S) as api:
        asked = api.post(
            APPROVALS,
            json={"kind": "evidence_view", "target": str(evidence_id), "reason": "核实巡查发现"},
            auth=people["prov"],
        )
        assert asked.status_code == 201, asked.text
        decided = api.post(f"{APPROVALS}/{asked.json()['id']}/approve", auth=people["prov2"])
        assert decided.status_code == 200, decided.text
        return api.get(f"/api/v1/evidence/{evidence_id}/image", auth=people["prov"])


def test_a_finding_gets_a_snapshot_and_a_clip_from_the_watching_agent(
    tmp_path: Path,
    real_time: FakeClock,
    central: str,
    db: Engine,
    edge: dict[str, dict[str, str]],
    people: dict[str, SignedIn],
) -> None:
    with agent(tmp_path, central, edge["EDGE-P"]["X-Device-Key"], live=LIVE_ON) as running:
        assert running.commands.connected.wait(WAIT_S)
        wait_until(lambda: camera_online_at_central(db), what="the camera online at central", timeout=WAIT_S)
        asyncio.run(watch_and_capture(central, people["prov"], db, real_time, "finding-1"))
        assert (running.captures.snapshots, running.captures.clips) == (1, 1)
    found = sorted(arrived(db, "finding-1"))
    assert found[0][0] == "image/jpeg" and found[0][1] == 640  # the camera's frame, caption band below
    assert found[1] == ("video/webm", 640, 360)  # the focus profile at the camera's own size
    with make_session_factory(db)() as session:
        clip_id = session.scalars(select(Evidence.id).where(Evidence.media_type == "video/webm")).one()
    shown = granted_bytes(central, people, clip_id)
    assert shown.status_code == 200 and shown.headers["content-type"] == "video/webm"
    with av.open(io.BytesIO(shown.content), format="matroska") as container:
        sizes = [(f.width, f.height) for f in container.decode(video=0)]
    assert len(sizes) >= 2 and set(sizes) == {(640, 360)}


def test_an_agent_without_live_view_still_sends_the_snapshot(
    tmp_path: Path,
    real_time: FakeClock,
    central: str,
    db: Engine,
    edge: dict[str, dict[str, str]],
) -> None:
    live_off = "live:\n  enabled: false\n"
    with agent(
        tmp_path, central, edge["EDGE-P"]["X-Device-Key"], live=live_off, channel="long_poll"
    ) as running:
        wait_until(lambda: camera_online_at_central(db), what="the camera online at central", timeout=WAIT_S)
        capture(db, real_time, ref="finding-2", at=datetime.now(UTC))
        wait_until(lambda: len(arrived(db, "finding-2")) == 1, what="the snapshot at central", timeout=WAIT_S)
        assert (running.captures.snapshots, running.captures.clips) == (1, 0)
    assert [m for m, _, _ in arrived(db, "finding-2")] == ["image/jpeg"]
