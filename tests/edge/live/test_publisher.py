"""The live publisher over real WebRTC on loopback: aiortc viewers receive and decode what the edge
encodes once per camera and profile from the agent's own capture (edge.video.capture)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from aiortc import RTCPeerConnection

from edge.live.config import ProfileName
from edge.live.ice import rtc_configuration
from edge.live.probe import ProbeViewer
from edge.live.publisher import LiveAnswer, LiveError, LivePublisher
from edge.video.capture import CameraReader
from tests.edge.live.cameras import RIGHT_HALF, HangingCamera, bright_picture, camera_config, publisher_for

WAIT_S = 60.0  # generous: a failure means "never", not "slow"
CAMERA = "CAM-L"


@pytest.fixture
def camera() -> HangingCamera:
    return HangingCamera(bright_picture())


@pytest.fixture
def reader(camera: HangingCamera) -> Iterator[CameraReader]:
    reader = CameraReader(camera_config(CAMERA), outbox=None, open_source=camera.open)
    reader.start()
    yield reader
    reader.stop()


def started(publisher: LivePublisher) -> LivePublisher:
    publisher.start()
    return publisher


@pytest.fixture
def publisher(reader: CameraReader) -> Iterator[LivePublisher]:
    publisher = started(
        publisher_for({CAMERA: reader}, {CAMERA: [RIGHT_HALF]}, keyframe_interval_seconds=300)
    )
    yield publisher
    publisher.stop()


async def watch(publisher: LivePublisher, profile: ProfileName = "tile") -> tuple[ProbeViewer, LiveAnswer]:
    viewer = ProbeViewer()
    offer = await viewer.offer()
    answer = await asyncio.to_thread(publisher.answer, offer, camera=CAMERA, profile=profile)
    await viewer.accept(answer.sdp)
    return viewer, answer


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll without blocking the viewers' loop; fails the test if `condition` never holds."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.02)


async def decoded(viewer: ProbeViewer, count: int) -> None:
    assert await viewer.wait_frames(count, WAIT_S) >= count


def test_two_viewers_share_one_encoder(publisher: LivePublisher) -> None:
    async def run() -> None:
        (first, a), (second, b) = await watch(publisher), await watch(publisher)
        await decoded(first, 8)
        await decoded(second, 8)
        stats = publisher.stream_stats(CAMERA, "tile")
        sent = [publisher.viewer_stats(a.viewer), publisher.viewer_stats(b.viewer)]
        assert stats.encoders_started == 1 and stats.running and stats.viewers == 2
        assert all(s is not None and 8 <= s.frames_sent <= stats.frames_encoded for s in sent)
        # Every encoded frame went to both viewers: far more frames sent than encoded.
        assert sum(s.frames_sent for s in sent if s) > stats.frames_encoded
        assert first.size == second.size == (320, 180)
        # No bandwidth feedback is asked for: the shared encoder's rate is the profile's.
        assert "abs-send-time" not in a.sdp and "goog-remb" not in a.sdp and "nack pli" in a.sdp
        assert publisher.stream_stats(CAMERA, "focus").encoders_started == 0  # nobody asked for it
        await first.close()
        await second.close()

    asyncio.run(run())


def test_masked_pixels_are_black_in_the_decoded_frames(publisher: LivePublisher) -> None:
    async def run() -> None:
        viewer, _ = await watch(publisher, "focus")
        await decoded(viewer, 5)
        picture = viewer.last_picture
        assert picture is not None and viewer.size == (640, 360)  # the camera's size: never scaled up
        left, right = picture[:, :300].astype(float), picture[:, 340:].astype(float)
        assert left.mean() > 190  # the bright picture comes through
        assert right.mean() < 12 and np.percentile(right, 99) < 40  # the mask is black (VP8 noise only)
        await viewer.close()

    asyncio.run(run())


def test_a_new_viewer_and_a_lost_packet_get_a_keyframe_at_once(publisher: LivePublisher) -> None:
    """The GOP is 300 s here: a second viewer decodes only because its arrival asked for a keyframe."""

    async def run() -> None:
        first, _ = await watch(publisher)
        await decoded(first, 5)
        before = publisher.stream_stats(CAMERA, "tile")
        second, b = await watch(publisher)
        await decoded(second, 1)
        after = publisher.stream_stats(CAMERA, "tile")
        assert after.keyframe_requests > before.keyframe_requests
        assert after.keyframes > before.keyframes
        stats = publisher.viewer_stats(b.viewer)
        assert stats is not None and stats.keyframes_sent >= 1

        await first.send_picture_loss()  # a PLI over RTCP, as after a lost packet
        await until(lambda: publisher.stream_stats(CAMERA, "tile").keyframes > after.keyframes, "a keyframe")
        assert publisher.stream_stats(CAMERA, "tile").keyframe_requests > after.keyframe_requests
        await first.close()
        await second.close()

    asyncio.run(run())


def test_an_offline_camera_sends_nothing(publisher: LivePublisher, camera: HangingCamera) -> None:
    async def run() -> None:
        viewer, a = await watch(publisher)
        await decoded(viewer, 3)
        assert publisher.online(CAMERA)
        camera.hung.set()  # the camera freezes: its connection stays open, no frame comes
        await until(lambda: not publisher.online(CAMERA), "the camera offline")
        sent = publisher.viewer_stats(a.viewer)
        received = viewer.frames
        await asyncio.sleep(2.0)  # ten tile frame times: none of them may bring the old picture again
        later = publisher.viewer_stats(a.viewer)
        assert sent is not None and later is not None and later.frames_sent == sent.frames_sent
        assert viewer.frames <= received + 1  # one frame may have been on the wire
        camera.hung.clear()
        await until(lambda: publisher.online(CAMERA), "the camera back")
        await decoded(viewer, received + 3)
        await viewer.close()

    asyncio.run(run())


def test_the_last_viewer_leaving_stops_the_encoder(publisher: LivePublisher) -> None:
    async def run() -> None:
        (first, a), (second, b) = await watch(publisher), await watch(publisher)
        await decoded(first, 3)
        await decoded(second, 3)
        assert await asyncio.to_thread(publisher.close, a.viewer)
        assert publisher.stream_stats(CAMERA, "tile").running
        assert await asyncio.to_thread(publisher.close, b.viewer)
        stats = publisher.stream_stats(CAMERA, "tile")
        assert not stats.running and stats.viewers == 0
        assert not await asyncio.to_thread(publisher.close, b.viewer)  # closed once
        ended = publisher.viewer_stats(a.viewer)  # kept for the patrol's proof of viewing
        assert ended is not None and ended.ended_at is not None and ended.state == "closed"
        assert ended.frames_sent >= 3 and ended.packets_sent >= ended.frames_sent and ended.bytes_sent > 0
        assert ended.started_at <= ended.ended_at
        await first.close()
        await second.close()

        third, _ = await watch(publisher)  # a new viewer starts a new encoder
        await decoded(third, 2)
        assert publisher.stream_stats(CAMERA, "tile").encoders_started == 2
        await third.close()

    asyncio.run(run())


def test_views_that_cannot_be_given_are_refused(reader: CameraReader) -> None:
    publisher = started(publisher_for({CAMERA: reader}, max_viewers_per_camera=1))

    async def run() -> None:
        viewer, a = await watch(publisher)
        other = ProbeViewer()
        offer = await other.offer()
        with pytest.raises(LiveError, match="already watching"):
            await asyncio.to_thread(publisher.answer, offer, camera=CAMERA, profile="tile", viewer=a.viewer)
        with pytest.raises(LiveError, match="most allowed"):
            await asyncio.to_thread(publisher.answer, offer, camera=CAMERA, profile="focus")
        with pytest.raises(LiveError, match="no camera"):
            await asyncio.to_thread(publisher.answer, offer, camera="CAM-X", profile="tile")
        await viewer.close()
        await other.close()

        audio_only = RTCPeerConnection(rtc_configuration())
        audio_only.addTransceiver("audio", direction="recvonly")
        await audio_only.setLocalDescription(await audio_only.createOffer())
        with pytest.raises(LiveError):
            await asyncio.to_thread(
                publisher.answer, audio_only.localDescription.sdp, camera=CAMERA, profile="tile"
            )
        await audio_only.close()

    try:
        asyncio.run(run())
        assert publisher.viewers() == [] or all(v.state != "connected" for v in publisher.viewers())
    finally:
        publisher.stop()


def test_stop_closes_every_view(reader: CameraReader) -> None:
    publisher = started(publisher_for({CAMERA: reader}))

    async def run() -> None:
        viewer, _ = await watch(publisher)
        await decoded(viewer, 2)
        await asyncio.to_thread(publisher.stop)
        ended = publisher.stream_stats(CAMERA, "tile")
        assert not ended.running and ended.viewers == 0
        await until(
            lambda: viewer.pc.connectionState in {"closed", "failed"},
            "the view closed",
        )
        await viewer.close()

    asyncio.run(run())
