"""Generated hall scenes: deterministic pictures of real photographs, timelines with usable truth."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.video.config import CameraConfig, GeneratedSource
from edge.video.regions import Region
from edge.video.scene import GeneratedFrameSource, HallScene, make_scene, open_generated, write_video
from edge.video.scene_people import people
from edge.video.scene_timeline import MARGIN_S, MIN_GAP_S, TimelineSpec, make_timeline
from edge.video.schedule import HALL_TZ, schedule_for
from edge.video.sources import open_source

START = datetime(2026, 3, 2, 9, 40, tzinfo=HALL_TZ)


def test_render_is_deterministic_and_a_camera_picture() -> None:
    scene = HallScene(4, seed=3, duration=600.0)
    frame = scene.render(42.0)
    assert frame.shape == (360, 640, 3) and frame.dtype == np.uint8
    assert np.array_equal(frame, HallScene(4, seed=3, duration=600.0).render(42.0))
    other = HallScene(4, seed=4, duration=600.0)
    assert other.timeline != scene.timeline
    # Sensor noise: two renders a moment apart differ a little everywhere, not a lot anywhere still.
    later = scene.render(42.05)
    difference = cv2.absdiff(frame, later)
    assert 0.5 < float(difference.mean()) < 5.0


def test_people_are_real_photographs_in_the_seats() -> None:
    assert len(people()) == 6  # astronaut, grace_hopper, cameraman, and each mirrored
    scene = HallScene(1, seed=1, duration=900.0)
    [window] = scene.window_configs()
    staff = Region.from_polygon(window.staff_region, width=640, height=360)
    stint = scene.timeline.windows[0].staff[0]
    empty_at = next(
        t for t in np.arange(0, 900, 5.0) if not scene.truth.staff_present("W01", t) and t > stint.end + 2
    )
    seated = staff.masked_crop(scene.render(stint.start + 3)).astype(np.int16)
    empty = staff.masked_crop(scene.render(empty_at)).astype(np.int16)
    changed = np.abs(seated - empty).max(axis=2) > 40
    assert changed.sum() > 0.3 * staff.area  # a person covers a good part of the seat region


def test_timeline_truth_is_unambiguous() -> None:
    spec = TimelineSpec(absence_after_s=180.0, visit_min_s=60.0)
    timeline = make_timeline(4, duration=3600.0, seed=9, breaks=[(1800.0, 2220.0)], spec=spec)
    still = fidgety = 0
    for plan in timeline.windows:
        for a, b in zip(plan.staff, plan.staff[1:], strict=False):
            gap = b.start - a.end
            assert gap >= MIN_GAP_S
            assert abs(gap - spec.absence_after_s) >= MARGIN_S
        for a, b in zip(plan.customers, plan.customers[1:], strict=False):
            assert b.start - a.end >= MIN_GAP_S
        for sit in plan.customers:
            assert abs(sit.seconds - spec.visit_min_s) >= MARGIN_S
            assert any(s.start <= sit.start and sit.end <= s.end for s in plan.staff)
        still += sum(1 for s in plan.staff if not s.fidgets)
        fidgety += sum(1 for s in plan.staff if s.fidgets)
        for stint in (*plan.staff, *plan.customers):
            assert all(
                stint.start <= f.start < f.end <= stint.end and 2 <= f.amplitude <= 4 for f in stint.fidgets
            )
    assert still and fidgety


def test_truth_absences_use_the_schedule() -> None:
    scene = HallScene(
        4,
        seed=7,
        start=START,
        duration=2400.0,
        timeline=make_timeline(4, duration=2400.0, seed=7, breaks=[(1500.0, 1920.0)], spec=TimelineSpec()),
    )
    [w1, w2, *_] = scene.window_configs(
        working_hours=["09:00-12:00"], breaks=["10:05-10:12"], absence_threshold_minutes=3
    )
    late = scene.truth.absences("W02", schedule_for(w2, "sichuan-2011"))
    assert START + timedelta(seconds=1920) in [a for a, _ in late]  # back late from the break
    closed = scene.window_configs(working_hours=["11:00-12:00"], absence_threshold_minutes=3)[0]
    assert scene.truth.absences("W01", schedule_for(closed, "sichuan-2011")) == []  # not staffed time
    with pytest.raises(KeyError, match="W09"):
        scene.truth.absences("W09", schedule_for(w1, "sichuan-2011"))


def test_window_configs_describe_the_layout() -> None:
    scene = HallScene(["A1", "A2", "A3"], seed=0, duration=600.0)
    configs = scene.window_configs("C7", visit_min_seconds=90)
    assert [c.name for c in configs] == ["A1", "A2", "A3"]
    assert all(c.camera == "C7" and c.visit_min_seconds == 90 and len(c.privacy_masks) == 1 for c in configs)
    # Regions of different windows never overlap.
    owners = np.zeros((360, 640), np.int8)
    for index, config in enumerate(configs, start=1):
        for polygon in (config.staff_region, config.customer_region):
            region = Region.from_polygon(polygon, width=640, height=360)
            patch = owners[region.y0 : region.y1, region.x0 : region.x1]
            assert not ((patch != 0) & (patch != index) & (region.mask > 0)).any()
            patch[region.mask > 0] = index


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"windows": 0}, "1 to 4 windows"),
        ({"windows": 5}, "1 to 4 windows"),
        ({"width": 100}, "at least 160"),
        ({"start": datetime(2026, 3, 2, 9, 0)}, "aware"),
    ],
)
def test_bad_scene_arguments_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    windows = kwargs.pop("windows", 2)
    with pytest.raises(ValueError, match=message):
        HallScene(windows, **kwargs)  # type: ignore[arg-type]


def test_generated_camera_is_paced_and_released_promptly() -> None:
    source = open_generated(
        GeneratedSource(type="generated", scene="hall-2", seed=1, fps=4.0), width=320, height=180
    )
    assert "hall-2" in source.description
    frames = [source.read() for _ in range(3)]
    assert all(f is not None and f.shape == (180, 320, 3) for f in frames)
    # Paced by its clock: on a clock that reaches each frame's time, frame k shows scene second k/fps.
    scene = make_scene("hall-2", seed=1, width=320, height=180)
    ticks = iter([100.0, *(100.0 + k / 4.0 for k in range(3) for _ in range(2))])  # open, then 2 a read
    paced = GeneratedFrameSource(scene, fps=4.0, name="hall-2", clock=lambda: next(ticks))
    for k in range(3):
        frame = paced.read()
        assert frame is not None and np.array_equal(frame, scene.render(k / 4.0))
    slow = open_generated(GeneratedSource(type="generated", scene="hall", fps=0.2), width=320, height=180)
    assert slow.read() is not None  # frame 0 at once
    threading.Timer(0.2, slow.release).start()
    assert slow.read() is None  # it waits 5 s for frame 1 (else a frame): the release ends the wait
    assert slow.read() is None


def test_unknown_scene_and_the_capture_path() -> None:
    with pytest.raises(ValueError, match="known: hall"):
        make_scene("lobby", seed=0, width=640, height=360)
    camera = CameraConfig(
        name="C1", source=GeneratedSource(type="generated", scene="empty", fps=10.0), width=320, height=180
    )
    source = open_source(camera)
    try:
        frame = source.read()
        assert frame is not None and frame.shape == (180, 320, 3)
    finally:
        source.release()


def test_write_video_reads_back_with_opencv(tmp_path: Path) -> None:
    scene = HallScene(2, seed=5, width=320, height=180, duration=120.0)
    path = tmp_path / "hall.avi"
    assert write_video(scene, path, fps=2.0, seconds=5.0, start=30.0) == 10
    capture = cv2.VideoCapture(str(path))
    decoded = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        decoded.append(frame)
    capture.release()
    assert len(decoded) == 10
    for k, frame in enumerate(decoded):
        assert float(cv2.absdiff(frame, scene.render(30.0 + k / 2)).mean()) < 4.0  # JPEG error only
    with pytest.raises(ValueError, match="avi"):
        write_video(scene, tmp_path / "hall.mp4", fps=2.0, seconds=1.0)
