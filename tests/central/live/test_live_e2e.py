"""Live view end to end: a real central under uvicorn, a real edge agent with a generated camera and
`live:` on, connected over its channel, and aiortc viewers (edge.live.probe) that post their offers to
central's API and decode what the agent sends. Only loopback: no ICE servers anywhere, the agent and
the viewers offer 127.0.0.1 only. No timing assertions: each step waits (generously) for what must
happen."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from central.app import create_app
from central.core.config import Settings
from central.core.db import make_session_factory
from central.live.models import LiveView
from central.video.models import CameraState
from edge.agent import Agent
from edge.configfile import parse_edge_config
from edge.live.probe import ProbeViewer
from tests.browser import serve
from tests.central.devices.helpers import edge
from tests.central.live.helpers import OFFER, offer, people
from tests.conftest import FakeClock, SignedIn
from tests.edge.contract import wait_until

__all__ = ["edge", "people"]
WAIT_S = 90.0
LIVE_ON = (
    "live:\n  host_addresses: [127.0.0.1]\n  tile: {width: 320, height: 180, fps: 5, bitrate_kbps: 150}\n"
)


@pytest.fixture
def real_time(clock: FakeClock) -> FakeClock:
    """Central's clock at the wall clock's time (held still): the agent's health reports are stamped
    with its own clock, and central must find them fresh."""
    clock.now = datetime.now(UTC)
    return clock


@pytest.fixture
def central(db: Engine, settings: Settings, real_time: FakeClock) -> Iterator[str]:
    patient = settings.model_copy(update={"live_answer_timeout_seconds": WAIT_S})
    app = create_app(patient, engine=db, clock=real_time)
    try:
        with serve(app) as url:
            yield url
    finally:
        app.state.notifier.stop()


@contextmanager
def agent(tmp_path: Path, url: str, key: str, *, live: str, channel: str = "websocket") -> Iterator[Agent]:
    text = f"""\
hall: 510000-ZWFW
central:
  url: {url}
  clock_sync_seconds: 0
  poll_wait_seconds: 1
  channel: {channel}
outbox:
  path: {tmp_path / "outbox.db"}
  initial_backoff_seconds: 0.05
  max_backoff_seconds: 0.5
  drain_on_stop_seconds: 2
cameras:
  - name: CAM-1
    source: {{type: generated, scene: hall-2, fps: 10}}
    width: 640
    height: 360
{live}"""
    running = Agent(parse_edge_config(text), key=key)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def camera_online_at_central(db: Engine) -> bool:
    with make_session_factory(db)() as session:
        state = session.scalar(select(CameraState).where(CameraState.camera == "CAM-1"))
        return state is not None and state.online


def ended(running: Agent, viewer: str) -> bool:
    assert running.live is not None
    found = running.live.viewer_stats(viewer)
    return found is not None and found.ended_at is not None


async def watch_then_end_one(url: str, who: SignedIn, running: Agent) -> list[dict[str, Any]]:
    """Two viewers at once (tile and focus), each offering through central's API, decode frames; then
    the first view is ended through central while both viewers stay open. What each saw."""
    probes = [ProbeViewer(), ProbeViewer()]
    async with httpx.AsyncClient(base_url=url, auth=who, trust_env=False, timeout=WAIT_S + 30) as api:
        offers = [await p.offer() for p in probes]
        answers = await asyncio.gather(
            *(
                api.post(OFFER, json=offer(profile=pr, sdp=sdp))
                for pr, sdp in zip(["tile", "focus"], offers, strict=True)
            )
        )
        for probe, answer in zip(probes, answers, strict=True):
            assert answer.status_code == 200, answer.text
            await probe.accept(answer.json()["sdp"])
        decoded = [await p.wait_frames(3, WAIT_S) for p in probes]
        first, second = (a.json()["viewer"] for a in answers)
        assert (await api.delete(f"/api/v1/live/viewers/{first}")).status_code == 204
        # the edge ends the view because central said so: its viewer is still there
        await asyncio.to_thread(
            wait_until, lambda: ended(running, first), what="the view ended", timeout=WAIT_S
        )
        assert not await asyncio.to_thread(ended, running, second)
    for probe in probes:
        await probe.close()
    return [
        {"viewer": a.json()["viewer"], "ice": a.json()["ice_servers"], "frames": n, "size": p.size}
        for a, n, p in zip(answers, decoded, probes, strict=True)
    ]


def test_two_viewers_watch_the_agents_camera_through_central_and_central_ends_a_view(
    tmp_path: Path,
    real_time: FakeClock,
    central: str,
    db: Engine,
    edge: dict[str, dict[str, str]],
    people: dict[str, SignedIn],
) -> None:
    with agent(tmp_path, central, edge["EDGE-P"]["X-Device-Key"], live=LIVE_ON) as running:
        assert running.live is not None
        assert running.commands.connected.wait(WAIT_S)
        wait_until(lambda: camera_online_at_central(db), what="the camera online at central", timeout=WAIT_S)
        seen = asyncio.run(watch_then_end_one(central, people["prov"], running))
        assert [(s["frames"] >= 3, s["size"], s["ice"]) for s in seen] == [
            (True, (320, 180), []),
            (True, (640, 360), []),  # the focus profile at the camera's own size (never scaled up)
        ]
        first, second = (s["viewer"] for s in seen)
        stats = running.live.viewer_stats(first)
        assert stats is not None and stats.frames_sent >= 3
    with make_session_factory(db)() as session:
        views = {v.viewer: v for v in session.scalars(select(LiveView))}
    assert {v: (views[v].outcome, views[v].closed_at is not None) for v in views} == {
        first: ("answered", True),
        second: ("answered", False),
    }


def test_an_agent_with_live_view_off_says_so_by_http_while_it_long_polls(
    tmp_path: Path,
    real_time: FakeClock,
    central: str,
    db: Engine,
    edge: dict[str, dict[str, str]],
    people: dict[str, SignedIn],
) -> None:
    """The agent has the camera but no live view: it replies (on the long-poll fallback, by
    POST /api/v1/device/replies) instead of leaving central to wait out its timeout."""
    live_off = "live:\n  enabled: false\n"
    with agent(
        tmp_path, central, edge["EDGE-P"]["X-Device-Key"], live=live_off, channel="long_poll"
    ) as running:
        assert running.live is None
        wait_until(lambda: camera_online_at_central(db), what="the camera online at central", timeout=WAIT_S)
        with httpx.Client(base_url=central, auth=people["prov"], trust_env=False, timeout=WAIT_S + 30) as api:
            r = api.post(OFFER, json=offer())
        assert r.status_code == 409, r.text
        assert "live view is off" in r.json()["detail"]
        # counted once its reply is sent: central may have answered the browser a moment before
        wait_until(lambda: running.live_commands.answered == 1, what="the agent's reply counted")
    with make_session_factory(db)() as session:
        assert session.scalars(select(LiveView.outcome)).all() == ["refused:live_off"]
