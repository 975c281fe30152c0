"""One generated hall, analysed once per test process, for the presence and visitor tests.

40 minutes of scene time at 2 fps, 4 windows, from 09:40 (so visitor hours split at 10:00), with a
break 10:05-10:12 that the staff of W02 come back from late; a 3-minute absence threshold, 60 s
visits. The analyser sees every frame, as the edge agent would hand them over.

The detector searches faces from 32 px in steps of 15 % (the defaults are 24 px and 10 %): faces at a
640×360 window camera are 40–50 px, the people found are the same (tests/edge/video/test_detect.py
measures both) and the suite runs in half the time.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pickle
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import cv2

from edge.video.config import AnalysisConfig, OpenCVDetectorConfig, WindowConfig
from edge.video.detect import make_detector
from edge.video.events import Event
from edge.video.presence import CameraAnalyser, RegionCounters
from edge.video.scene import HallScene
from edge.video.scene_timeline import TimelineSpec, make_timeline
from edge.video.schedule import HALL_TZ, WindowSchedule, schedule_for

logger = logging.getLogger(__name__)

START = datetime(2026, 3, 2, 9, 40, tzinfo=HALL_TZ)  # a Monday
SECONDS = 2400.0
FPS = 2.0
BREAK = (1500.0, 1920.0)  # scene seconds of 10:05-10:12
THRESHOLD_MINUTES = 3
VISIT_MIN_SECONDS = 60.0
DETECTOR = OpenCVDetectorConfig(type="opencv", min_size=32, scale_factor=1.15)
ANALYSIS = AnalysisConfig(detector=DETECTOR)
PROFILE = "sichuan-2011"
SHARED_DIR_VARIABLE = "HALLWATCH_TEST_SHARED_DIR"  # set by tests/conftest.py under pytest-xdist


@dataclass(frozen=True)
class HallRun:
    scene: HallScene
    windows: dict[str, tuple[WindowConfig, WindowSchedule]]
    events: tuple[Event, ...]
    counters: dict[str, RegionCounters]
    frames: int

    def of(self, window: str, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind) and e.window == window]


def hall_scene(seed: int = 7) -> HallScene:
    timeline = make_timeline(
        4,
        duration=SECONDS,
        seed=seed,
        breaks=[BREAK],
        spec=TimelineSpec(absence_after_s=THRESHOLD_MINUTES * 60, visit_min_s=VISIT_MIN_SECONDS),
    )
    return HallScene(4, seed=seed, timeline=timeline, start=START)


def configs(scene: HallScene) -> dict[str, tuple[WindowConfig, WindowSchedule]]:
    windows = scene.window_configs(
        "C1",
        working_hours=["09:00-12:00", "13:30-17:30"],
        breaks=["10:05-10:12"],
        absence_threshold_minutes=THRESHOLD_MINUTES,
        visit_min_seconds=VISIT_MIN_SECONDS,
    )
    return {w.name: (w, schedule_for(w, PROFILE)) for w in windows}


@cache
def hall_run() -> HallRun:
    """The analysed run. Under pytest-xdist the workers share it: the first to ask analyses it and
    leaves it in this test run's shared temp dir; the others wait on the lock and load it."""
    shared = os.environ.get(SHARED_DIR_VARIABLE)
    if shared is None:
        return _analyse()
    path = Path(shared) / "hall-run.pickle"
    with path.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            run: HallRun = pickle.loads(path.read_bytes())  # written by a worker of this same run
            return run
        run = _analyse()
        path.write_bytes(pickle.dumps(run))
        return run


def _analyse() -> HallRun:
    cv2.setNumThreads(1)  # the machine is shared; threads buy nothing on these small crops
    scene = hall_scene()
    windows = configs(scene)
    camera = CameraAnalyser(list(windows.values()), ANALYSIS, make_detector(DETECTOR))
    events: list[Event] = []
    frames = round(SECONDS * FPS)
    for k in range(frames):
        t = k / FPS
        events += camera.feed(scene.render(t), START + timedelta(seconds=t))
    events += camera.close(START + timedelta(seconds=SECONDS))
    counters = {name: analyser.counters for name, analyser in camera.windows.items()}
    return HallRun(scene, windows, tuple(events), counters, frames)
