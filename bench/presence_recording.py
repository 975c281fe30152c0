"""Recorded footage in bench.presence: the bench's clip analysed as a recording (`hallwatch edge
analyse`'s path: PyAV decoding at the recording's own time, the camera's whole pipeline — analysis,
masked evidence, the outbox), and the same scene as an NVR would export it: 25 fps 1080p H.264.

Speed is recording seconds per wall second on one core (OpenCV and FFmpeg held to one thread), split
into decoding (every frame is decoded; only the analysed ones are converted) and the pipeline.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import av
import cv2
import numpy as np

from edge.outbox import Outbox
from edge.video.config import AnalysisConfig, CameraConfig, OpenCVDetectorConfig, WindowConfig
from edge.video.detect import make_detector
from edge.video.pipeline import CameraPipeline
from edge.video.recording import RecordingStats, analyse_recording
from edge.video.scene import HallScene

logger = logging.getLogger(__name__)

NVR_SIZE = (1920, 1080)
NVR_FPS = 25


@dataclass(frozen=True)
class RecordingRun:
    stats: RecordingStats
    wall: float
    presence: list[tuple[datetime, datetime, str]]  # (start, end, window) as stored in the outbox

    @property
    def speed(self) -> float:
        return self.stats.scene_seconds / self.wall


def analyse_as_recording(
    video: Path,
    scene: HallScene,
    windows: list[WindowConfig],
    *,
    detector: OpenCVDetectorConfig,
    analysis_fps: float,
    folder: Path,
) -> RecordingRun:
    """The camera pipeline over `video`, exactly as `hallwatch edge analyse` runs it (no upload)."""
    camera = CameraConfig.model_validate(
        {"name": "C1", "source": {"type": "generated"}, "analysis_fps": analysis_fps}
    )
    outbox = Outbox(folder / f"{video.stem}-outbox.db")
    try:
        pipeline = CameraPipeline(
            camera,
            windows,
            analysis=AnalysisConfig(detector=detector),
            profile="sichuan-2011",
            outbox=outbox,
            detector=make_detector(detector),
            origin="recording",
        )
        began = time.perf_counter()
        stats = analyse_recording(video, pipeline, start=scene.start, threads=1)
        wall = time.perf_counter() - began
        rows = [json.loads(p.body) for p in outbox.pending(1_000_000)]
    finally:
        outbox.close()
    presence = [
        (datetime.fromisoformat(r["start"]), datetime.fromisoformat(r["end"]), r["window"])
        for r in rows
        if r["kind"] == "presence"
    ]
    return RecordingRun(stats=stats, wall=wall, presence=presence)


def accuracy(run: RecordingRun, scene: HallScene, *, frames: int, fps: float) -> float:
    """Share of (window, frame time) at which the stored staff presence equals the truth."""
    right = total = 0
    for window in scene.names:
        intervals = [(s, e) for s, e, w in run.presence if w == window]
        for k in range(frames):
            at = scene.start.timestamp() + k / fps
            said = any(s.timestamp() <= at < e.timestamp() for s, e in intervals)
            right += said == scene.truth.staff_present(window, k / fps)
            total += 1
    return right / total


def write_nvr_export(scene: HallScene, path: Path, *, seconds: float) -> int:
    """The scene at 25 fps 1080p H.264 (libx264, yuv420p, the encoder's default quality) in an MP4."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=NVR_FPS)
        stream.width, stream.height, stream.pix_fmt = *NVR_SIZE, "yuv420p"
        stream.options = {"preset": "veryfast", "g": str(2 * NVR_FPS)}  # a keyframe every 2 s, as NVRs do
        count = 0
        for image in _nvr_frames(scene, seconds):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
            count += 1
        for packet in stream.encode():
            container.mux(packet)
    return count


def _nvr_frames(scene: HallScene, seconds: float) -> Iterator[np.ndarray]:
    # The scene drawn at 640×360 and scaled up: 1080p pixels for the codec, at a tenth of the drawing.
    for k in range(int(seconds * NVR_FPS)):
        yield cv2.resize(scene.render(k / NVR_FPS), NVR_SIZE, interpolation=cv2.INTER_LINEAR)


def nvr_export_run(
    scene: HallScene,
    windows: list[WindowConfig],
    *,
    detector: OpenCVDetectorConfig,
    seconds: float,
    analysis_fps: float,
) -> tuple[RecordingRun, int]:
    """Encode `seconds` of the scene as an NVR export and analyse it; (run, frames in the file)."""
    with tempfile.TemporaryDirectory(prefix="hallwatch-nvr-") as tmp:
        path = Path(tmp) / "nvr-export-1080p.mp4"
        frames = write_nvr_export(scene, path, seconds=seconds)
        run = analyse_as_recording(
            path, scene, windows, detector=detector, analysis_fps=analysis_fps, folder=Path(tmp)
        )
    return run, frames


def describe(name: str, run: RecordingRun) -> str:
    stats = run.stats
    return (
        f"{name}: {stats.scene_seconds:.0f} s of recording in {run.wall:.1f} s = {run.speed:.1f}× real time; "
        f"{stats.decoded} frames decoded ({stats.decode_seconds:.1f} s, "
        f"{stats.decode_seconds / run.wall * 100:.0f}%), {stats.analysed} analysed "
        f"({stats.analyse_seconds:.1f} s, {stats.analyse_seconds / run.wall * 100:.0f}%: analysis, evidence, "
        f"outbox); {stats.observations} observations"
    )
