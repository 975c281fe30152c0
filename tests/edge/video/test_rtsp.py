"""A real RTSP camera (GStreamer's RTSP server, H.264 over RTSP/TCP, tests/rtsp_camera.py) read by the
agent's own capture: the source classes OpenCV's FFmpeg opens, the camera reader, its health reports
and its reconnects when the camera loses power and comes back on the same address, as a hall's
cameras do after a switch or power cut (SC-5(5))."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from edge.outbox import Outbox
from edge.video.capture import CameraReader
from edge.video.sources import StreamFrameSource, open_source
from tests.edge.video.cameras import camera
from tests.edge.video.test_capture import assert_ids_increase, health_reports, outbox, run_reader, wait_for
from tests.rtsp_camera import STALL_SECONDS, RtspCamera, assert_pattern

__all__ = ["outbox"]


@pytest.fixture
def reader(rtsp_camera: RtspCamera, outbox: Outbox) -> Iterator[CameraReader]:
    config = camera(
        {"type": "stream", "url": rtsp_camera.url},
        width=160,
        height=120,
        stall_seconds=STALL_SECONDS,
        reconnect_max_seconds=0.5,
        health_every_seconds=1,
    )
    reader = run_reader(config, outbox)
    yield reader
    reader.stop()


def test_the_source_opens_an_rtsp_camera_as_h264_decoded_by_ffmpeg(rtsp_camera: RtspCamera) -> None:
    source = open_source(camera({"type": "stream", "url": rtsp_camera.url}, stall_seconds=STALL_SECONDS))
    try:
        assert isinstance(source, StreamFrameSource)
        assert source.description == f"stream {rtsp_camera.url} (h264 via FFmpeg)"
        images = [source.read() for _ in range(5)]  # a live camera: each read waits for a frame
        for image in images:
            assert image is not None and image.shape == (240, 320, 3) and image.dtype == np.uint8
            assert_pattern(image)
        assert rtsp_camera.connections == rtsp_camera.sessions == 1
    finally:
        source.release()


def test_the_reader_gets_the_cameras_frames_at_their_size_and_scaled(
    reader: CameraReader, rtsp_camera: RtspCamera, outbox: Outbox
) -> None:
    first = wait_for("a frame", reader.latest)
    assert first.image.shape == (120, 160, 3)  # the configured analysis size
    assert first.full.shape == (240, 320, 3)  # the camera's own
    assert_pattern(first.full)
    later = wait_for("a newer frame", lambda: reader.wait_newer(first.seq + 5, timeout=1))
    # A live camera, not a frozen picture: the white bar has moved.
    assert not np.array_equal(later.full, first.full)
    status = reader.status()
    assert status.online and (status.source_width, status.source_height) == (320, 240)
    assert status.corrupt_frames == 0 and status.reconnects == 0
    online = wait_for("an online health report", lambda: [r for r in health_reports(outbox) if r.online])
    assert (online[0].width, online[0].height) == (320, 240)
    assert rtsp_camera.connections == rtsp_camera.sessions == rtsp_camera.clients_now == 1


def test_a_camera_that_loses_power_goes_offline_and_is_read_again_when_it_comes_back(
    reader: CameraReader, rtsp_camera: RtspCamera, outbox: Outbox
) -> None:
    wait_for("online", lambda: [r for r in health_reports(outbox) if r.online])
    before = wait_for("a frame", reader.latest)
    port = rtsp_camera.port
    rtsp_camera.stop()  # its connection closes; every reopening is refused while it is off
    offline = wait_for("an offline report", lambda: [r for r in health_reports(outbox) if not r.online])
    assert offline[0].last_frame_at is not None and offline[0].fps == 0
    wait_for("a reopening refused", lambda: reader.status().connect_failures >= 1)
    status = reader.status()
    assert not status.online and "cannot open stream" in (status.detail or "")
    assert reader.latest() is None  # offline is offline: the last picture never passes for live

    rtsp_camera.start()  # the same address: the reader finds it by itself
    assert rtsp_camera.port == port
    wait_for("back online", lambda: health_reports(outbox)[-1].online)
    after = wait_for("a new frame", lambda: reader.wait_newer(before.seq, timeout=1))
    assert after.full.shape == (240, 320, 3)
    assert_pattern(after.full)
    status = reader.status()
    assert status.online and status.reconnects == 1
    # One connection before the outage and one after: attempts while it was off were refused.
    assert rtsp_camera.connections == 2 and rtsp_camera.clients_now == 1

    reader.stop()
    reports = health_reports(outbox)
    states = [r.online for r in reports]
    assert [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]] == [True, False, True]
    assert reports[-1].reconnects == 1
    assert_ids_increase(reports)
