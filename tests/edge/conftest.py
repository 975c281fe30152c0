"""Fixtures for the edge's tests that need a real camera on the wire."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.rtsp_camera import RtspCamera, missing


@pytest.fixture
def rtsp_camera() -> Iterator[RtspCamera]:
    """A real RTSP camera (GStreamer's server, H.264, 320x240 at 25 fps) on loopback."""
    reason = missing()
    if reason is not None:
        pytest.skip(f"no RTSP camera on this machine: {reason}")
    camera = RtspCamera()
    camera.start()
    yield camera
    camera.stop()
