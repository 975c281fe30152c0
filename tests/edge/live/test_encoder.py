"""The live picture (masked, then scaled) and the shared VP8 encoder, without WebRTC."""

from __future__ import annotations

from typing import Any

import av
import numpy as np
import pytest

from edge.live.config import LiveConfig
from edge.live.encoder import TIME_BASE, Vp8Encoder, live_picture, live_size
from tests.edge.live.cameras import RIGHT_HALF, bright_picture


@pytest.mark.parametrize(
    ("source", "box", "expected"),
    [
        ((1920, 1080), (320, 180), (320, 180)),
        ((640, 480), (320, 180), (240, 180)),  # the camera's aspect ratio is kept
        ((320, 240), (1280, 720), (320, 240)),  # never scaled up
        ((1001, 563), (1280, 720), (1000, 562)),  # even sizes (4:2:0)
    ],
)
def test_the_live_size_fits_the_box(
    source: tuple[int, int], box: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert live_size(source, box) == expected


def test_the_mask_is_burnt_in_at_the_cameras_size_before_scaling() -> None:
    image = bright_picture(1280, 720)
    picture = live_picture(image, [RIGHT_HALF], (320, 180))
    assert picture.shape == (180, 320, 3)
    assert picture[:, 160:].max() == 0 and picture[:, :150].mean() > 200
    assert image[:, 700:].min() > 0  # the camera's own frame is untouched (it is shared)


def decode(packets: list[av.Packet[Any]]) -> list[np.ndarray]:
    codec = av.CodecContext.create("libvpx", "r")
    return [f.to_ndarray(format="bgr24") for p in packets for f in codec.decode(p)]


def test_keyframes_come_on_request_and_with_a_new_size() -> None:
    encoder = Vp8Encoder(LiveConfig().tile, keyframe_interval_seconds=300)
    picture = live_picture(bright_picture(), [RIGHT_HALF], (320, 180))
    frames = [encoder.encode(picture, seconds=k / 5, keyframe=k == 4) for k in range(8)]
    assert all(f is not None for f in frames)
    assert [f.keyframe for f in frames if f] == [True, False, False, False, True, False, False, False]
    assert (
        frames[4] is not None and frames[4].packet.time_base == TIME_BASE and frames[4].packet.pts == 72_000
    )
    # A viewer joining at the forced keyframe decodes from there on, masked area black.
    tail = decode([f.packet for f in frames[4:] if f])
    assert len(tail) == 4 and tail[-1][:, 170:].mean() < 12 and tail[-1][:, :150].mean() > 190

    smaller = encoder.encode(picture[:90, :160].copy(), seconds=2.0, keyframe=False)
    assert smaller is not None and smaller.keyframe and encoder.keyframes == 3
