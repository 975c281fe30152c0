"""The live view of a real RTSP camera (GStreamer's RTSP server, H.264, tests/rtsp_camera.py): the
camera's H.264 is decoded once, by the agent's one reader on its one connection; each live profile
is encoded once, whoever watches; aiortc viewers on loopback decode the camera's picture."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from edge.live.publisher import LivePublisher
from edge.video.capture import CameraReader
from tests.edge.live.cameras import camera_config, publisher_for
from tests.edge.live.test_publisher import CAMERA, decoded, started, until, watch
from tests.rtsp_camera import STALL_SECONDS, RtspCamera, assert_pattern


@pytest.fixture
def reader(rtsp_camera: RtspCamera) -> Iterator[CameraReader]:
    source = {"type": "stream", "url": rtsp_camera.url}
    config = camera_config(CAMERA, source=source, stall_seconds=STALL_SECONDS, reconnect_max_seconds=0.5)
    reader = CameraReader(config, outbox=None)
    reader.start()
    yield reader
    reader.stop()


@pytest.fixture
def publisher(reader: CameraReader) -> Iterator[LivePublisher]:
    publisher = started(publisher_for({CAMERA: reader}))
    yield publisher
    publisher.stop()


def test_viewers_of_an_rtsp_camera_share_its_one_connection_and_one_encoder_per_profile(
    publisher: LivePublisher, reader: CameraReader, rtsp_camera: RtspCamera
) -> None:
    async def run() -> None:
        (first, a), (second, b) = await watch(publisher), await watch(publisher)
        await decoded(first, 8)
        await decoded(second, 8)
        tile = publisher.stream_stats(CAMERA, "tile")
        sent = [publisher.viewer_stats(a.viewer), publisher.viewer_stats(b.viewer)]
        assert tile.encoders_started == 1 and tile.running and tile.viewers == 2
        # Every encoded frame went to both viewers: each got at most what was encoded, both together
        # more; and each encoded frame is a frame of its own from the camera.
        assert all(s is not None and 8 <= s.frames_sent <= tile.frames_encoded for s in sent)
        assert sum(s.frames_sent for s in sent if s) > tile.frames_encoded
        assert tile.frames_encoded <= reader.status().frames
        for viewer in (first, second):
            assert viewer.size == (240, 180) and viewer.last_picture is not None  # 4:3 kept in a 16:9 tile
            assert_pattern(viewer.last_picture)

        focus, _ = await watch(publisher, "focus")  # the other profile: its own one encoder
        await decoded(focus, 5)
        assert focus.size == (320, 240)  # the camera's size: never scaled up
        assert focus.last_picture is not None
        assert_pattern(focus.last_picture)
        assert publisher.stream_stats(CAMERA, "focus").encoders_started == 1
        assert publisher.stream_stats(CAMERA, "tile").encoders_started == 1
        # Three viewers, two profiles, one connection to the camera: the agent's reader's.
        assert rtsp_camera.connections == rtsp_camera.sessions == rtsp_camera.clients_now == 1
        for viewer in (first, second, focus):
            await viewer.close()

    asyncio.run(run())


def test_a_viewer_sees_the_rtsp_camera_again_after_it_comes_back(
    publisher: LivePublisher, rtsp_camera: RtspCamera
) -> None:
    async def run() -> None:
        viewer, a = await watch(publisher)
        await decoded(viewer, 3)
        rtsp_camera.stop()
        await until(lambda: not publisher.online(CAMERA), "the camera offline")
        await asyncio.to_thread(rtsp_camera.start)  # the same address; the reader reconnects by itself
        await until(lambda: publisher.online(CAMERA), "the camera back")
        received = viewer.frames
        await decoded(viewer, received + 5)  # the same view goes on: no new offer
        assert viewer.last_picture is not None
        assert_pattern(viewer.last_picture)
        stats = publisher.viewer_stats(a.viewer)
        assert stats is not None and stats.state == "connected"
        assert rtsp_camera.connections == 2 and rtsp_camera.clients_now == 1
        await viewer.close()

    asyncio.run(run())
