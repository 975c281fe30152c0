"""The camera reader end to end through real OpenCV: newest-frame buffer, watchdog and reconnects, and
camera_health observations in the outbox, checked against central's contract (CameraHealthIn).

SC-5(5): a camera offline is a supervision event, reported, and never shown as live.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from common.contract import CameraHealthIn
from edge.outbox import Outbox
from edge.video.capture import CameraReader, Frame
from edge.video.config import CameraConfig
from edge.video.sources import FrameSource, open_source
from tests.edge.video.cameras import FILE_FRAMES, MjpegCamera, camera, closed_port, write_video

WAIT_S = 30.0  # generous: a failure means "never", not "slow" (the machine is shared)


def wait_for(what: str, predicate: Callable[[], Any], timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


def health_reports(outbox: Outbox) -> list[CameraHealthIn]:
    """Every camera_health observation in the outbox, validated by central's own model."""
    return [
        CameraHealthIn.model_validate_json(p.body)
        for p in outbox.pending(10_000)
        if p.kind == "camera_health"
    ]


def assert_ids_increase(reports: list[CameraHealthIn]) -> None:
    stamps = [int(r.id.rsplit(":cam:", 1)[1]) for r in reports]
    assert all(r.id.startswith("CAM-T:cam:") for r in reports)
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


@pytest.fixture
def mjpeg() -> Iterator[MjpegCamera]:
    server = MjpegCamera(width=320, height=240, fps=25)
    yield server
    server.close()


def run_reader(config: CameraConfig, outbox: Outbox | None, **kwargs: Any) -> CameraReader:
    reader = CameraReader(config, outbox=outbox, **kwargs)
    reader.start()
    return reader


# --- frames ---------------------------------------------------------------------------------------


def test_file_camera_frames_are_resized_looped_and_reported_online(tmp_path: Path, outbox: Outbox) -> None:
    path = write_video(tmp_path / "clip.avi", fps=50)
    reader = run_reader(
        camera({"type": "file", "path": str(path), "loop": True}, width=320, height=180), outbox
    )
    try:
        wait_for("the file to loop", lambda: reader.status().frames > 2 * FILE_FRAMES)
        frame = reader.latest()
        assert frame is not None and frame.image.shape == (180, 320, 3) and frame.image.dtype == np.uint8
        assert frame.at.tzinfo is UTC and not frame.image.flags.writeable  # shared: copy before drawing
        newer = reader.wait_newer(frame.seq, timeout=10)
        assert newer is not None and newer.seq > frame.seq and newer.at >= frame.at
        status = reader.status()
        assert status.online and (status.source_width, status.source_height) == (160, 120)
        assert status.fps > 0 and status.corrupt_frames == 0 and status.reconnects == 0
        first = wait_for("a health report", lambda: health_reports(outbox))[0]
        assert first.online and (first.width, first.height) == (160, 120) and first.detail is None
    finally:
        reader.stop()


def test_a_seat_taken_or_left_is_reported_at_once_not_at_the_next_interval(
    tmp_path: Path, outbox: Outbox
) -> None:
    path = write_video(tmp_path / "clip.avi", fps=50)
    seat: dict[str, Any] = {"code": "W01", "staffed": True, "seat_taken": False, "taken_since": None}
    config = camera({"type": "file", "path": str(path), "loop": True}, health_every_seconds=3600)
    reader = run_reader(config, outbox, window_states=lambda _at: [dict(seat)])
    try:
        wait_for("the first report", lambda: health_reports(outbox))
        seat.update(seat_taken=True, taken_since=reader.status().last_frame_at)  # the clerk sits down
        taken = wait_for("a report of the taken seat", lambda: len(health_reports(outbox)) == 2)
        assert taken
        seat.update(staffed=False)  # the working day ends: reported too
        wait_for("a report of the staffed time's end", lambda: len(health_reports(outbox)) == 3)
        time.sleep(1.0)  # several watchdog ticks with nothing changed: nothing more
        reports = health_reports(outbox)
    finally:
        reader.stop()
    assert [(r.windows[0].seat_taken, r.windows[0].staffed) for r in reports] == [
        (False, True),
        (True, True),
        (True, False),
    ]
    assert_ids_increase(reports)


def test_a_slow_consumer_gets_the_newest_frame_and_the_rest_are_dropped(tmp_path: Path) -> None:
    path = write_video(tmp_path / "fast.avi", fps=100)
    reader = run_reader(camera({"type": "file", "path": str(path), "loop": True}), None)
    taken: list[Frame] = []
    try:
        # The frame that answered is the one taken (asking again could take a newer one, and the
        # first would be neither in `taken` nor dropped).
        taken.append(wait_for("a first frame", reader.latest))
        for _ in range(5):
            time.sleep(0.2)  # analysis is busy; the reader keeps reading
            newest_before = reader.status().frames
            frame = reader.wait_newer(taken[-1].seq, timeout=10)
            assert frame is not None
            assert frame.seq >= newest_before  # the newest, not the next in a backlog
            taken.append(frame)
    finally:
        reader.stop()
    status = reader.status()
    seqs = [f.seq for f in taken]
    assert seqs == sorted(set(seqs)) and seqs[-1] - seqs[0] > len(seqs)  # gaps: frames were skipped
    # Every frame nobody took was overwritten, except perhaps the one in the slot when it stopped.
    assert status.dropped_frames in {status.frames - len(taken), status.frames - len(taken) - 1}


def test_a_file_without_loop_ends_offline_and_is_not_reopened(tmp_path: Path, outbox: Outbox) -> None:
    path = write_video(tmp_path / "once.avi", fps=50)
    config = camera({"type": "file", "path": str(path), "loop": False}, stall_seconds=0.5)
    reader = run_reader(config, outbox)
    try:
        offline = wait_for("an offline report", lambda: [r for r in health_reports(outbox) if not r.online])
        assert "video file ended" in (offline[0].detail or "")
        time.sleep(0.5)  # long enough for a reopen, were there one
        status = reader.status()
        assert (status.frames, status.reconnects, status.online) == (FILE_FRAMES, 0, False)
        assert reader.latest() is None
    finally:
        reader.stop()


# --- cameras that never come up ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ({"type": "file", "path": "/nonexistent/hall.avi"}, "cannot open: video file not found"),
        ({"type": "stream", "url": "http://127.0.0.1:{closed}/"}, "cannot open: cannot open stream"),
        ({"type": "stream", "url": "rtsp://127.0.0.1:1/x"}, "cannot open: cannot open stream"),
    ],
)
def test_a_camera_that_never_comes_up_is_reported_offline(
    source: dict[str, Any], words: str, outbox: Outbox
) -> None:
    if "url" in source:
        source = {**source, "url": source["url"].format(closed=closed_port())}
    config = camera(source, stall_seconds=0.5, reconnect_max_seconds=0.1)
    reader = run_reader(config, outbox)
    try:
        reports = wait_for("an offline report", lambda: health_reports(outbox))
        assert not reports[0].online and words in (reports[0].detail or "")
        assert reports[0].last_frame_at is None and reports[0].fps == 0
        wait_for("it to keep trying", lambda: reader.status().connect_failures >= 3)
        assert reader.latest() is None and reader.wait_newer(0, timeout=0.1) is None
    finally:
        reader.stop()


# --- a live HTTP MJPEG camera with faults -----------------------------------------------------------


def test_a_stalled_stream_goes_offline_then_reconnects(mjpeg: MjpegCamera, outbox: Outbox) -> None:
    config = camera({"type": "stream", "url": mjpeg.url}, stall_seconds=1, reconnect_max_seconds=0.5)
    reader = run_reader(config, outbox)
    try:
        wait_for("online", lambda: [r for r in health_reports(outbox) if r.online])
        before = wait_for("a frame", reader.latest)
        mjpeg.paused.set()  # the camera hangs with the connection open
        offline = wait_for("an offline report", lambda: [r for r in health_reports(outbox) if not r.online])
        assert "stream stalled" in (offline[0].detail or "") and offline[0].last_frame_at is not None
        assert reader.latest() is None  # offline is offline: no old frame passes for live
        wait_for("a reopening to fail while it hangs", lambda: reader.status().connect_failures >= 1)
        assert not reader.status().online and "cannot open" in (reader.status().detail or "")
        mjpeg.paused.clear()
        wait_for("back online", lambda: health_reports(outbox)[-1].online)
        after = wait_for("a new frame", lambda: reader.wait_newer(before.seq, timeout=1))
        assert after.seq > before.seq
        status = reader.status()
        assert status.online and status.reconnects >= 1 and mjpeg.connections >= 2
    finally:
        reader.stop()
    reports = health_reports(outbox)
    states = [r.online for r in reports]
    assert [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]] == [True, False, True]
    assert reports[-1].reconnects >= 1
    assert_ids_increase(reports)


def test_a_corrupt_part_is_counted_and_skipped(mjpeg: MjpegCamera, outbox: Outbox) -> None:
    reader = run_reader(camera({"type": "stream", "url": mjpeg.url}, stall_seconds=5), outbox)
    try:
        wait_for("a frame", reader.latest)
        good = mjpeg.jpeg(1)
        mjpeg.corrupt_next(good[: len(good) // 2])  # a part cut short
        wait_for("the corrupt frame counted", lambda: reader.status().corrupt_frames == 1)
        counted = reader.status().frames
        wait_for("frames after it", lambda: reader.status().frames > counted + 5)
        status = reader.status()
        assert status.online and status.reconnects == 0 and status.corrupt_frames == 1
    finally:
        reader.stop()
    assert all(r.online for r in health_reports(outbox))  # a bad frame is no outage


def test_a_resolution_change_keeps_the_configured_size_and_is_reported(
    mjpeg: MjpegCamera, outbox: Outbox
) -> None:
    config = camera({"type": "stream", "url": mjpeg.url}, width=320, height=180, stall_seconds=5)
    reader = run_reader(config, outbox)
    try:
        wait_for("online", lambda: health_reports(outbox))
        mjpeg.size = (640, 480)
        wait_for("the new size", lambda: reader.status().source_width == 640)
        frame = wait_for("a frame", reader.latest)
        assert frame.image.shape == (180, 320, 3)
        assert reader.status().detail == "resolution changed from 320x240 to 640x480"
        changed = wait_for(
            "a report of the change", lambda: [r for r in health_reports(outbox) if r.width == 640]
        )
        assert changed[0].online and changed[0].height == 480
        assert "320x240 to 640x480" in (changed[0].detail or "")
    finally:
        reader.stop()


def test_stop_returns_while_a_read_blocks(mjpeg: MjpegCamera) -> None:
    opened: list[FrameSource] = []

    def open_and_keep(config: CameraConfig) -> FrameSource:
        opened.append(open_source(config))
        return opened[-1]

    config = camera({"type": "stream", "url": mjpeg.url}, stall_seconds=60)
    reader = run_reader(config, None, open_source=open_and_keep)
    wait_for("a frame", reader.latest)
    mjpeg.paused.set()  # the next read blocks in FFmpeg for up to 60 s
    time.sleep(0.3)
    reader.stop(timeout=0.5)
    read_thread = [t for t in threading.enumerate() if t.name == "camera-read-CAM-T"]
    assert read_thread, "stop() waited for the blocked read instead of returning"
    mjpeg.paused.clear()  # the read returns; the reader then releases the capture itself
    read_thread[0].join(WAIT_S)
    assert not read_thread[0].is_alive() and getattr(opened[0], "released", None) is True


class HangingSource:
    """A FrameSource whose second read never returns until released (a hung generator or driver)."""

    description = "hanging test source"

    def __init__(self) -> None:
        self._released = threading.Event()
        self.reads = 0

    def read(self) -> np.ndarray | None:
        self.reads += 1
        if self.reads == 1:
            return np.full((90, 160, 3), 77, np.uint8)
        self._released.wait()
        return None

    def release(self) -> None:
        self._released.set()


def test_the_watchdog_reports_and_releases_a_read_that_never_returns(outbox: Outbox) -> None:
    sources: list[HangingSource] = []

    def open_hanging(config: CameraConfig) -> FrameSource:
        sources.append(HangingSource())
        return sources[-1]

    config = camera({"type": "file", "path": "unused.avi"}, stall_seconds=0.3, reconnect_max_seconds=0.2)
    reader = run_reader(config, outbox, open_source=open_hanging)
    try:
        offline = wait_for("an offline report", lambda: [r for r in health_reports(outbox) if not r.online])
        assert offline[0].detail is not None and "stalled" in offline[0].detail
        wait_for("the hung read released and the source reopened", lambda: reader.status().reconnects >= 1)
        assert sources[0]._released.is_set()
    finally:
        reader.stop()
        for source in sources:
            source.release()
