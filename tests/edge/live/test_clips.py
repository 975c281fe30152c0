"""Patrol clips at the edge: each watched stream's ring of encoded frames (edge.live.ring) — bounded,
always starting at a keyframe — and the WebM cut from it (edge.live.clips), muxed from the very
packets the viewers got: decoded with PyAV, the privacy mask is black."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import av
import numpy as np
import pytest

from edge.live.clips import ClipError, mux_webm
from edge.live.config import LiveConfig
from edge.live.encoder import TIME_BASE
from edge.live.publisher import LiveError
from edge.live.ring import FrameRing, RingFrame
from edge.video.capture import CameraReader
from tests.edge.live.cameras import RIGHT_HALF, HangingCamera, bright_picture, camera_config, publisher_for
from tests.edge.live.test_publisher import CAMERA, decoded, started, until, watch

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def frame(second: float, *, key: bool = False, size: int = 100, width: int = 320) -> RingFrame:
    """A stand-in packet: the ring only keeps and orders packets, it never reads them."""
    packet = av.Packet(bytes(size))
    packet.pts = round(second / TIME_BASE)
    return RingFrame(T0 + timedelta(seconds=second), packet, key, width, 180)


def seconds(frames: list[RingFrame]) -> list[float]:
    return [(f.at - T0).total_seconds() for f in frames]


def fill(ring: FrameRing, upto: float, *, every: float = 1.0, key_every: float = 4.0) -> list[bool]:
    """A frame each `every` s from 0 to `upto`, a keyframe each `key_every` s; what the ring asked."""
    asked = []
    for step in range(round(upto / every) + 1):
        t = step * every
        asked.append(ring.add(frame(t, key=t % key_every == 0)))
    return asked


def test_the_ring_keeps_its_seconds_back_to_a_keyframe_and_no_more() -> None:
    ring = FrameRing(5)
    fill(ring, 20)  # keyframes at 0, 4, 8, 12, 16, 20
    held = seconds(ring.since(T0))
    # 5 s back from 20 is 15: the last keyframe at or before it is 12, and everything before it is gone.
    assert held == [12, 13, 14, 15, 16, 17, 18, 19, 20]
    assert ring.stats() == (9, 900)


def test_a_clip_starts_at_the_last_keyframe_at_or_before_its_start() -> None:
    ring = FrameRing(10)
    fill(ring, 20)
    assert seconds(ring.since(T0 + timedelta(seconds=17)))[0] == 16
    assert seconds(ring.since(T0 + timedelta(seconds=16)))[0] == 16
    assert seconds(ring.since(T0 + timedelta(seconds=15.5)))[0] == 12
    # before what the ring holds: from its first frame, a keyframe
    assert seconds(ring.since(T0 - timedelta(hours=1)))[0] == 8
    assert ring.since(T0 + timedelta(seconds=21)) == []  # nothing after the start: no clip


def test_the_ring_starts_at_a_keyframe_and_asks_for_one_when_its_newest_is_old() -> None:
    ring = FrameRing(3)
    assert ring.add(frame(0)) is True  # no keyframe yet: not kept, one asked for
    assert ring.stats() == (0, 0)
    asked = [ring.add(frame(t, key=t == 1)) for t in (1, 2, 3, 4, 5)]
    assert asked == [False, False, False, True, True]  # the keyframe at 1 is 3 s old at 4
    assert seconds(ring.since(T0))[0] == 1
    ring.add(frame(6, key=True))
    assert seconds(ring.since(T0)) == [1, 2, 3, 4, 5, 6]  # 3 s back from 6 is 3: keyframe 1 stays


def test_the_ring_stays_within_its_bytes_whole_runs_at_a_time() -> None:
    ring = FrameRing(30, max_bytes=1000)
    fill(ring, 19)  # 20 frames of 100 bytes, keyframes at 0, 4, 8, 12, 16
    _, size = ring.stats()
    assert size <= 1000 and seconds(ring.since(T0)) == [12, 13, 14, 15, 16, 17, 18, 19]
    assert ring.dropped_for_size == 12
    big = FrameRing(30, max_bytes=1000)
    big.add(frame(0, key=True, size=600))
    big.add(frame(1, size=600))  # one run over the bound, no later keyframe: dropped whole
    assert big.stats() == (0, 0) and big.since(T0) == []
    big.add(frame(2, size=100))  # and nothing but a keyframe restarts it
    assert big.stats() == (0, 0)


def test_a_new_spell_or_picture_size_starts_the_ring_afresh() -> None:
    ring = FrameRing(30)
    ring.begin(1)
    ring.add(frame(0, key=True), spell=1)
    ring.add(frame(1), spell=1)
    ring.begin(2)
    assert ring.stats() == (0, 0)
    ring.add(frame(2), spell=1)  # the old spell's late frame
    ring.add(frame(3, key=True), spell=2)
    ring.add(frame(4, key=True, width=640), spell=2)
    assert seconds(ring.since(T0)) == [4]


def test_a_clip_starts_at_a_keyframe() -> None:
    with pytest.raises(ClipError):
        mux_webm([frame(0)])
    with pytest.raises(ClipError):
        mux_webm([])


def test_the_ring_is_off_at_zero_seconds() -> None:
    with pytest.raises(ValueError):
        FrameRing(0)
    assert LiveConfig().clip_buffer_seconds == 10
    with pytest.raises(ValueError):
        LiveConfig(clip_buffer_seconds=31)


# --- the real encoder ---------------------------------------------------------------------------


@pytest.fixture
def reader() -> Iterator[CameraReader]:
    camera = HangingCamera(bright_picture())
    reader = CameraReader(camera_config(CAMERA), outbox=None, open_source=camera.open)
    reader.start()
    yield reader
    reader.stop()


def decode(webm: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(webm), format="matroska") as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "vp8"
        return [f.to_ndarray(format="rgb24") for f in container.decode(stream)]


def test_nobody_watched_no_clip_and_an_unknown_camera_is_an_error(reader: CameraReader) -> None:
    publisher = started(publisher_for({CAMERA: reader}))
    try:
        assert publisher.clip(CAMERA, 10) is None  # no stream ran: nothing was encoded
        with pytest.raises(LiveError):
            publisher.clip("CAM-X", 10)
    finally:
        publisher.stop()


def test_the_clip_of_a_watched_camera_decodes_with_its_mask_black(reader: CameraReader) -> None:
    # A keyframe only when asked (300 s): the clip still starts at one, the ring asked for it.
    publisher = started(
        publisher_for(
            {CAMERA: reader}, {CAMERA: [RIGHT_HALF]}, keyframe_interval_seconds=300, clip_buffer_seconds=1
        )
    )

    async def run() -> dict[str, Any]:
        viewer, _ = await watch(publisher, "focus")
        await decoded(viewer, 5)
        # ten focus frames past the ring's second: its trimming and its own keyframe request ran
        await until(lambda: publisher.stream_stats(CAMERA, "focus").frames_encoded >= 25, "frames encoded")
        clip = await asyncio.to_thread(publisher.clip, CAMERA, 1)
        await viewer.close()
        stats = publisher.stream_stats(CAMERA, "focus")
        return {"clip": clip, "keyframes": stats.keyframes}

    try:
        got = asyncio.run(run())
    finally:
        publisher.stop()
    clip = got["clip"]
    assert clip is not None and clip.profile == "focus" and clip.webm[:4] == b"\x1a\x45\xdf\xa3"
    assert (clip.width, clip.height) == (640, 360) and clip.started_at <= clip.ended_at
    assert got["keyframes"] >= 2  # the ring asked for a keyframe beside the first
    pictures = decode(clip.webm)
    assert len(pictures) == clip.frames >= 2
    for picture in pictures:
        left, right = picture[:, :300].astype(float), picture[:, 340:].astype(float)
        assert left.mean() > 190  # the bright picture comes through
        assert right.mean() < 12 and np.percentile(right, 99) < 40  # the mask is black (VP8 noise only)
    assert 0 < clip.duration_ms < 10_000


def test_a_clip_over_its_bytes_leaves_out_its_oldest_runs(reader: CameraReader) -> None:
    publisher = started(publisher_for({CAMERA: reader}, keyframe_interval_seconds=1, clip_buffer_seconds=5))

    async def run() -> None:
        viewer, _ = await watch(publisher, "tile")
        await until(lambda: publisher.stream_stats(CAMERA, "tile").keyframes >= 4, "four keyframes")
        await viewer.close()

    try:
        asyncio.run(run())
        whole = publisher.clip(CAMERA, 30)
        assert whole is not None
        cut = publisher.clip(CAMERA, 30, max_bytes=len(whole.webm) - 1)
    finally:
        publisher.stop()
    assert whole.profile == "tile"  # the stream stopped with its viewer; its ring is still there
    assert cut is not None and cut.frames < whole.frames and cut.started_at > whole.started_at
    assert len(cut.webm) < len(whole.webm) and len(decode(cut.webm)) == cut.frames
