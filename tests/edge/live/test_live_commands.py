"""Live view commands at the edge (edge.live.commands) as the command handler hands them over: each
offer for this agent's cameras gets a reply (an answer, or why not: live off, camera offline, too
many viewers, an offer it cannot answer), offers for another agent's camera get none, live_close
ends the view. The whole path through central is in tests/central/live/test_live_e2e.py."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.commands import CommandHandler
from edge.live.commands import LiveCommands
from edge.live.probe import ProbeViewer
from edge.live.publisher import LivePublisher
from edge.outbox import Outbox
from edge.video.capture import CameraReader
from tests.edge.contract import wait_until
from tests.edge.live.cameras import HangingCamera, bright_picture, camera_config, publisher_for

CAMERA = "CAM-L"
SDP = (
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
)


class Replies:
    """Central's side: what the agent replied to each command."""

    def __init__(self) -> None:
        self.got: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, command_id: int, body: dict[str, Any]) -> bool:
        with self._lock:
            self.got[command_id] = body
        return True


def live_offer(command_id: int, camera: str = CAMERA, sdp: str = SDP, **fields: Any) -> dict[str, Any]:
    return {
        "id": command_id,
        "kind": "live_offer",
        "expires_at": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
        "viewer": f"v{command_id}",
        "camera": camera,
        "profile": "tile",
        "sdp": sdp,
        "ice_servers": [],
        **fields,
    }


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


@pytest.fixture
def camera() -> HangingCamera:
    return HangingCamera(bright_picture())


@pytest.fixture
def publisher(camera: HangingCamera) -> Iterator[LivePublisher]:
    reader = CameraReader(camera_config(CAMERA), outbox=None, open_source=camera.open)
    reader.start()
    publisher = publisher_for({CAMERA: reader}, max_viewers_per_camera=1)  # a second viewer is refused
    publisher.start()
    yield publisher
    publisher.stop()
    reader.stop()


def handler_for(outbox: Outbox, live: LiveCommands) -> CommandHandler:
    return CommandHandler(outbox, lambda *_: False, live=live)


def test_an_agent_with_live_off_replies_so_and_ignores_other_agents_cameras(outbox: Outbox) -> None:
    replies = Replies()
    live = LiveCommands(None, cameras=[CAMERA], reply=replies)
    handler = handler_for(outbox, live)
    expired = live_offer(3, expires_at=(datetime.now(UTC) - timedelta(seconds=1)).isoformat())
    close = {"id": 4, "kind": "live_close", "expires_at": live_offer(4)["expires_at"], "viewer": "v1"}
    page = [live_offer(1), live_offer(2, camera="CAM-OTHER"), expired, close]
    assert handler.handle_page({"commands": page, "cursor": 4}) == 1
    live.stop()
    assert replies.got == {
        1: {"viewer": "v1", "refused": "live_off", "detail": "live view is off on this agent"}
    }


def test_offers_are_answered_or_refused_with_a_reason_and_live_close_ends_the_view(
    outbox: Outbox, publisher: LivePublisher, camera: HangingCamera
) -> None:
    replies = Replies()
    live = LiveCommands(publisher, cameras=[CAMERA], reply=replies)
    handler = handler_for(outbox, live)
    wait_until(lambda: publisher.online(CAMERA), what="the camera online", timeout=60)

    def handed(command: dict[str, Any]) -> dict[str, Any]:
        handler.handle_page({"commands": [command], "cursor": command["id"]})
        wait_until(lambda: command["id"] in replies.got, what=f"the reply to {command['id']}", timeout=60)
        return replies.got[command["id"]]

    async def run() -> None:
        viewer = ProbeViewer()  # kept open: the view ends because central said so, not because it left
        offer = await viewer.offer()
        answer = await asyncio.to_thread(handed, live_offer(1, sdp=offer))
        assert answer["viewer"] == "v1" and "refused" not in answer
        await viewer.accept(answer["sdp"])
        assert await viewer.wait_frames(3, 60) >= 3
        assert (await asyncio.to_thread(handed, live_offer(2, sdp=offer)))["refused"] == "too_many_viewers"
        close = {"id": 3, "kind": "live_close", "expires_at": live_offer(3)["expires_at"], "viewer": "v1"}
        assert await asyncio.to_thread(handler.handle_page, {"commands": [close], "cursor": 3}) == 1
        await asyncio.to_thread(wait_until, lambda: ended(publisher, "v1"), what="v1 ended", timeout=60)
        bad = offer.replace("VP8", "H265")  # nothing this agent encodes
        assert (await asyncio.to_thread(handed, live_offer(4, sdp=bad)))["refused"] == "bad_offer"
        await viewer.close()

    asyncio.run(run())
    camera.hung.set()  # no frames: offline, refused rather than answered with a frozen picture
    wait_until(lambda: not publisher.online(CAMERA), what="the camera offline", timeout=60)
    assert handed(live_offer(5))["refused"] == "camera_offline"
    camera.hung.clear()
    live.stop()


def ended(publisher: LivePublisher, viewer: str) -> bool:
    stats = publisher.viewer_stats(viewer)
    return stats is not None and stats.ended_at is not None
