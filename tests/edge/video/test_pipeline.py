"""A camera's pipeline in the edge agent: frames of a generated hall → presence, absences with their
masked evidence, visitor hours → the outbox, exactly in the shape central accepts."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from pydantic import TypeAdapter

from common.contract import Observation
from edge.outbox import Outbox, SpacePolicy
from edge.video.capture import Frame
from edge.video.config import AnalysisConfig, CameraConfig, OpenCVDetectorConfig
from edge.video.detect.base import make_detector
from edge.video.pipeline import FRESH_FRAME_SECONDS, CameraPipeline
from edge.video.regions import polygon_pixels
from edge.video.scene import HallScene
from edge.video.scene_timeline import Stint, Timeline, WindowPlan
from edge.video.schedule import schedule_for
from tests.edge.test_outbox_full import fill_pages

OBSERVATION = TypeAdapter(Observation)
ALWAYS_OPEN = {"working_hours": ["00:00-24:00"], "breaks": [], "working_days": "all"}
FPS = 1.0


@pytest.fixture
def outbox(tmp_path: Path):
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


def stored(outbox: Outbox) -> list[dict[str, Any]]:
    return [json.loads(p.body) for p in outbox.pending(100_000)]


def run_scene(scene: HallScene, pipeline: CameraPipeline, *, seconds: float) -> None:
    for k in range(int(seconds * FPS)):
        t = k / FPS
        pipeline.process(Frame(seq=k + 1, at=scene.start + timedelta(seconds=t), image=scene.render(t)))


def camera() -> CameraConfig:
    return CameraConfig.model_validate({"name": "C1", "source": {"type": "generated"}})


def test_absences_arrive_with_their_masked_evidence_in_one_piece(outbox: Outbox) -> None:
    scene = HallScene(1, seed=4, duration=900.0)
    [window] = scene.window_configs("C1", absence_threshold_minutes=3, **ALWAYS_OPEN)
    truth = scene.truth.absences(window.name, schedule_for(window, "sichuan-2011"))
    assert truth, "the scene must contain an absence past the threshold"
    analysis = AnalysisConfig()
    pipeline = CameraPipeline(
        camera(),
        [window],
        analysis=analysis,
        profile="sichuan-2011",
        outbox=outbox,
        detector=make_detector(OpenCVDetectorConfig(type="opencv")),
    )
    [state] = pipeline.window_states(scene.start)  # named in the camera's health reports
    assert state == {"code": window.name, "staffed": True, "seat_taken": None, "taken_since": None}
    run_scene(scene, pipeline, seconds=scene.duration)
    [state] = pipeline.window_states(scene.truth.end)
    assert state["seat_taken"] is True and state["taken_since"] > scene.start  # back since scene second ~420
    pipeline.stop()  # ends the open intervals at the last frame (the reader was never started)
    observations = stored(outbox)
    for observation in observations:
        OBSERVATION.validate_python(observation)  # central's contract, item by item
    by_id = {o["id"]: o for o in observations}
    starts = [o for o in observations if o["kind"] == "absence" and o["phase"] == "start"]
    ends = [o for o in observations if o["kind"] == "absence" and o["phase"] == "end"]
    assert len(starts) == len(truth) and len(ends) == len(starts)  # the last one closed by stop()
    for start in starts:
        [evidence_id] = start["evidence"]
        evidence = by_id[evidence_id]
        assert evidence["reason"] == "absence_start" and evidence["window"] == window.name
        jpeg = base64.b64decode(evidence["jpeg_base64"])
        picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)[: scene.height]
        [mask] = window.privacy_masks
        inside = np.zeros(picture.shape[:2], np.uint8)
        cv2.fillPoly(inside, [polygon_pixels(mask, width=scene.width, height=scene.height)], 255)
        inside = cv2.erode(inside, np.ones((5, 5), np.uint8))  # JPEG blurs the edge by a pixel or two
        assert picture[inside > 0].mean() < 3  # the monitor is black in the file itself
    kinds = {o["kind"] for o in observations}
    assert {"presence", "absence", "evidence"} <= kinds
    assert pipeline.stats.errors == 0 and pipeline.stats.evidence == len(
        [o for o in observations if o["kind"] == "evidence"]
    )


def test_short_of_disk_absences_go_without_evidence_and_on_a_full_disk_they_drop_with_a_count(
    tmp_path: Path,
) -> None:
    """Below the outbox's reserve no snapshot is made (the absence is stored, naming none); with the
    disk full, what a frame produced is dropped and counted, and the camera goes on."""
    beyond = shutil.disk_usage(tmp_path).free + 2**40  # more than this disk will ever have free
    box = Outbox(tmp_path / "outbox.db", space=SpacePolicy(reserve_bytes=beyond))
    scene = HallScene(1, seed=4, duration=900.0)
    [window] = scene.window_configs("C1", absence_threshold_minutes=3, **ALWAYS_OPEN)
    pipeline = CameraPipeline(
        camera(),
        [window],
        analysis=AnalysisConfig(),
        profile="sichuan-2011",
        outbox=box,
        detector=make_detector(OpenCVDetectorConfig(type="opencv")),
    )
    try:
        run_scene(scene, pipeline, seconds=scene.duration)
        absences = [o for o in stored(box) if o["kind"] == "absence"]
        assert absences, "the scene must contain an absence past the threshold"
        assert all(o["evidence"] == [] for o in absences), "stored, naming no snapshot"
        assert pipeline.stats.evidence_skipped == len(absences), "no snapshot was even made"
        assert box.health().refused_by_kind == {"evidence": len(absences)}
        fill_pages(box)
        pipeline.stop()  # ends the open intervals: their observations find the disk full
        assert pipeline.stats.refused >= 1, "dropped with a count"
    finally:
        box.close()


def test_bad_frames_and_a_failing_detector_are_counted_not_fatal(outbox: Outbox) -> None:
    scene = HallScene(1, seed=3, duration=600.0)
    [window] = scene.window_configs("C1", **ALWAYS_OPEN)

    class Flaky:
        name = "flaky"

        def __init__(self) -> None:
            self.calls = 0

        def detect(self, image: np.ndarray) -> list[Any]:
            self.calls += 1
            if self.calls % 3 == 0:
                raise RuntimeError("inference failed")
            return []

    pipeline = CameraPipeline(
        camera(), [window], analysis=AnalysisConfig(), profile="sichuan-2011", outbox=outbox, detector=Flaky()
    )
    at = scene.start
    assert pipeline.process(Frame(1, at, scene.render(0))) == 0
    assert pipeline.process(Frame(2, at, scene.render(0))) == 0  # not after the previous frame
    assert pipeline.process(Frame(3, at + timedelta(seconds=1), np.zeros((4, 4, 3), np.uint8))) == 0
    for k in range(4, 30):
        pipeline.process(Frame(k, at + timedelta(seconds=k), scene.render(k)))
    assert pipeline.stats.bad_frames == 2 and pipeline.stats.errors >= 1
    assert pipeline.stats.frames >= 20


def test_a_camera_without_windows_only_reports_health(outbox: Outbox) -> None:
    pipeline = CameraPipeline.health_only(camera(), outbox=outbox)
    assert pipeline.analyser is None
    assert pipeline.process(Frame(1, HallScene(1).start, HallScene(1).render(0))) == 0


# --- was a citizen at the counter when a key was pressed? -------------------------------------------

# W01: the clerk seated throughout, a citizen seated from scene second 20 to 60; W02 (not watched by
# this camera) stands in for a window elsewhere.
COUNTER = Timeline(140.0, (WindowPlan(staff=(Stint(0, 0.0, 140.0),), customers=(Stint(3, 20.0, 60.0),)),))
GRACE = 30.0


def counter_pipeline(outbox: Outbox) -> tuple[HallScene, CameraPipeline]:
    scene = HallScene(["W01"], seed=2, timeline=COUNTER)
    analysis = AnalysisConfig(
        detector=OpenCVDetectorConfig(type="opencv", min_size=32, scale_factor=1.15),
        citizen_grace_seconds=GRACE,
    )
    pipeline = CameraPipeline(
        camera(),
        scene.window_configs("C1", **ALWAYS_OPEN),
        analysis=analysis,
        profile="sichuan-2011",
        outbox=outbox,
        detector=make_detector(analysis.detector),
    )
    return scene, pipeline


def feed(scene: HallScene, pipeline: CameraPipeline, start: float, end: float) -> datetime:
    """Frames at 2 fps from scene second `start` up to and including `end`; the last frame's time."""
    for k in range(int(start * 2), int(end * 2) + 1):
        pipeline.process(
            Frame(seq=k + 1, at=scene.start + timedelta(seconds=k / 2), image=scene.render(k / 2))
        )
    return scene.start + timedelta(seconds=end)


def test_a_press_is_attended_while_and_shortly_after_a_citizen_is_at_the_counter(outbox: Outbox) -> None:
    scene, pipeline = counter_pipeline(outbox)
    assert pipeline.analyser is not None
    window = pipeline.analyser.windows["W01"]
    assert pipeline.citizen_present("W01", scene.start) is None  # no frame yet: the camera cannot tell
    at = feed(scene, pipeline, 0, 15)
    assert pipeline.citizen_present("W01", at) is False  # the clerk alone: nobody else could press
    at = feed(scene, pipeline, 15.5, 40)
    assert window.customer_present and pipeline.citizen_present("W01", at) is True
    # Stood up at 60; the seat is judged empty 20 s later (hysteresis), the press still counts for
    # GRACE seconds after the citizen was last seen.
    at = feed(scene, pipeline, 40.5, 85)
    assert not window.customer_present and pipeline.citizen_present("W01", at) is True
    at = feed(scene, pipeline, 85.5, 100)
    assert pipeline.citizen_present("W01", at) is False  # last seen 40 s ago: longer than the grace
    # The frame analysed just after the press answers for it too (the press came on another thread).
    assert pipeline.citizen_present("W01", at - timedelta(seconds=1)) is False


def test_no_verdict_without_a_fresh_frame_of_the_window(outbox: Outbox) -> None:
    scene, pipeline = counter_pipeline(outbox)
    at = feed(scene, pipeline, 30, 40)  # the citizen is seated
    assert pipeline.citizen_present("W01", at + timedelta(seconds=FRESH_FRAME_SECONDS)) is True
    # The camera went quiet (offline, stalled): it must not call the counter empty, nor full.
    assert pipeline.citizen_present("W01", at + timedelta(seconds=FRESH_FRAME_SECONDS + 1)) is None
    assert pipeline.citizen_present("W02", at) is None  # not a window this camera watches
    health = CameraPipeline.health_only(camera(), outbox=outbox)
    health.process(Frame(1, at, scene.render(40)))
    assert health.citizen_present("W01", at) is None
