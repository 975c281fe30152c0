"""Camera sources through real OpenCV: video files, a real HTTP MJPEG camera on loopback, unreachable
and hung cameras (issue #4, "Capture" and "Bad input and faults"; SC-5(5): a camera that cannot be
opened is an error to report, never a crash)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from edge.video.sources import (
    CameraOpenError,
    CorruptFrame,
    FileFrameSource,
    SourceEnded,
    StreamFrameSource,
    decode_jpeg,
    frame_problem,
    open_source,
    redact_url,
)
from tests.edge.video.cameras import (
    FILE_FPS,
    FILE_FRAMES,
    MjpegCamera,
    SilentServer,
    camera,
    closed_port,
    write_video,
)


class FakeTime:
    """Monotonic time that only moves when the source sleeps: pacing is checked without waiting."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# --- video files ---------------------------------------------------------------------------------


def test_file_plays_at_its_own_rate_and_loops(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi")
    fake = FakeTime()
    source = FileFrameSource(path, loop=True, clock=fake.clock, sleep=fake.sleep)
    try:
        frames = [source.read() for _ in range(2 * FILE_FRAMES + 3)]
    finally:
        source.release()
    assert all(f is not None and frame_problem(f) is None and f.shape == (120, 160, 3) for f in frames)
    levels = [round(float(f.mean())) for f in frames if f is not None]
    # MJPEG is lossy: levels within a few units of what was written, and the loop starts over.
    expected = [10 + 20 * (i % FILE_FRAMES) for i in range(len(frames))]
    assert all(abs(got - want) <= 3 for got, want in zip(levels, expected, strict=True)), levels
    # Real time: n frames take (n - 1) frame intervals of sleep at the file's 20 fps.
    assert sum(fake.sleeps) == pytest.approx((len(frames) - 1) / FILE_FPS)
    assert source.released


def test_file_that_falls_behind_skips_ahead_instead_of_bursting(tmp_path: Path) -> None:
    fake = FakeTime()
    source = FileFrameSource(
        write_video(tmp_path / "clip.avi"), loop=True, clock=fake.clock, sleep=fake.sleep
    )
    source.read()
    fake.now += 10.0  # the reader was away for 10 s (200 frame intervals)
    source.read()
    source.read()
    source.release()
    assert fake.sleeps == [pytest.approx(1 / FILE_FPS)]  # resynchronised: one interval, no catch-up burst


def test_file_without_loop_ends(tmp_path: Path) -> None:
    fake = FakeTime()
    source = FileFrameSource(
        write_video(tmp_path / "clip.avi"), loop=False, clock=fake.clock, sleep=fake.sleep
    )
    assert sum(source.read() is not None for _ in range(FILE_FRAMES)) == FILE_FRAMES
    with pytest.raises(SourceEnded, match="ended"):
        source.read()
    source.release()


def test_open_source_opens_a_file_by_config(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi")
    source = open_source(camera({"type": "file", "path": str(path), "loop": False}))
    try:
        assert "clip.avi" in source.description and "20 fps" in source.description
        image = source.read()
        assert image is not None and image.shape == (120, 160, 3)
    finally:
        source.release()


def test_missing_or_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.avi").write_bytes(b"this is not a video " * 50)
    cases = {
        tmp_path / "missing.avi": "video file not found",
        tmp_path / "notes.avi": "not a readable video file",
        tmp_path: "video file not found",  # a directory
    }
    for path, message in cases.items():
        with pytest.raises(CameraOpenError, match=message) as caught:
            open_source(camera({"type": "file", "path": str(path)}))
        assert str(path) in str(caught.value)


# --- streams and devices -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["rtsp://127.0.0.1:1/x", "http://127.0.0.1:{closed}/", "rtsp://admin:secret@127.0.0.1:{closed}/s"]
)
def test_unreachable_streams_are_clear_errors(url: str) -> None:
    url = url.format(closed=closed_port())
    with pytest.raises(CameraOpenError, match="cannot open stream") as caught:
        open_source(camera({"type": "stream", "url": url}, stall_seconds=1))
    assert "secret" not in str(caught.value)  # credentials never reach logs or central
    assert redact_url(url) in str(caught.value)


def test_a_hung_camera_fails_to_open_within_the_open_timeout() -> None:
    silent = SilentServer()  # accepts the connection, never answers
    try:
        with pytest.raises(CameraOpenError, match="no answer within 1 s"):
            open_source(
                camera({"type": "stream", "url": f"http://127.0.0.1:{silent.port}/"}, stall_seconds=0.5)
            )
    finally:
        silent.close()


def test_no_such_device_is_a_clear_error() -> None:
    with pytest.raises(CameraOpenError, match="/dev/video63"):
        open_source(camera({"type": "device", "index": 63}))


def test_redact_url() -> None:
    assert redact_url("rtsp://admin:pa:ss@10.0.0.5:554/s?x=@") == "rtsp://***@10.0.0.5:554/s?x=@"
    assert redact_url("http://10.0.0.5/video") == "http://10.0.0.5/video"


@pytest.fixture
def mjpeg() -> Any:
    server = MjpegCamera(width=320, height=240, fps=25)
    yield server
    server.close()


@pytest.mark.parametrize("content_length", [True, False])
def test_http_mjpeg_stream_frames_corrupt_parts_and_resolution_change(content_length: bool) -> None:
    mjpeg = MjpegCamera(width=320, height=240, fps=25, content_length=content_length)
    source = StreamFrameSource(mjpeg.url, stall_seconds=2)
    try:
        assert "MJPEG decoded here" in source.description
        first = source.read()
        assert first is not None and first.shape == (240, 320, 3)
        good = mjpeg.jpeg(5)
        # A part cut short (a dropped packet), garbage, and a JPEG whose scan data was zeroed.
        for bad in (good[: len(good) // 3], b"garbage" * 80, good[:40] + bytes(len(good) - 42) + good[-2:]):
            mjpeg.corrupt_next(bad)
            outcome = _read_until_corrupt(source)
            assert isinstance(outcome, CorruptFrame), f"{len(bad)} corrupt bytes were accepted"
            after = source.read()
            assert after is not None and after.shape == (240, 320, 3)
        mjpeg.size = (640, 480)  # the camera switches resolution mid-stream
        sizes = {_shape(source.read()) for _ in range(10)}
        assert (480, 640, 3) in sizes  # the real new size, not FFmpeg's silent rescale to the old one
    finally:
        source.release()
        mjpeg.close()


def test_release_from_another_thread_while_a_read_blocks(mjpeg: MjpegCamera) -> None:
    source = StreamFrameSource(mjpeg.url, stall_seconds=30)
    assert source.read() is not None
    mjpeg.paused.set()  # the camera hangs: the next read blocks in FFmpeg
    results: list[object] = []
    reading = threading.Thread(target=lambda: results.append(source.read()))
    reading.start()
    reading.join(0.3)
    source.release()  # returns at once: FFmpeg's context is not freed under the blocked read
    assert reading.is_alive() and not results
    mjpeg.paused.clear()  # a frame arrives, the read returns, and the capture is released then
    reading.join(10)
    assert results == [None]
    assert source.released
    assert source.read() is None


def test_decode_jpeg_refuses_what_is_not_a_whole_jpeg() -> None:
    ok, data = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))
    assert ok
    assert decode_jpeg(data).shape == (48, 64, 3)
    for bad in (
        data[: data.size - 40],
        data[:2],
        np.frombuffer(b"\xff\xd8" + b"x" * 100 + b"\xff\xd9", np.uint8),
    ):
        with pytest.raises(CorruptFrame):
            decode_jpeg(bad)


def test_frame_problem_names_what_is_wrong() -> None:
    assert frame_problem(np.zeros((4, 4, 3), np.uint8)) is None
    bad: dict[str, object] = {
        "not an image": None,
        "pixel type float32": np.zeros((4, 4, 3), np.float32),
        "expected height x width x 3": np.zeros((4, 4), np.uint8),
        "size 0x4": np.zeros((4, 0, 3), np.uint8),
        "size 20000x1": np.zeros((1, 20000, 3), np.uint8),
    }
    for words, image in bad.items():
        problem = frame_problem(image)
        assert problem is not None and words in problem, (words, problem)


def test_generated_scene_opens_through_the_same_code() -> None:
    scene = pytest.importorskip("edge.video.scene")
    if not hasattr(scene, "open_generated"):
        pytest.skip("edge.video.scene.open_generated is not written yet")
    source = open_source(camera({"type": "generated", "seed": 1}, width=320, height=180))
    try:
        image = source.read()
        assert image is not None and frame_problem(image) is None
    finally:
        source.release()


def _read_until_corrupt(source: StreamFrameSource, limit: int = 10) -> CorruptFrame | None:
    for _ in range(limit):
        try:
            source.read()
        except CorruptFrame as exc:
            return exc
    return None


def _shape(image: np.ndarray | None) -> tuple[int, ...] | None:
    return None if image is None else image.shape
