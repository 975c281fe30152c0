"""Recorded footage (issue #19, item 2): an H.264 file of a generated hall, analysed as fast as it
decodes, at the recording's own time. Its absences match a live run of the same scene; everything it
reports says it comes from a recording; `hallwatch edge analyse` sends it to the real central (SQLite
and PostgreSQL), where it is stored as recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from central.app import create_app
from central.cli.main import app as cli
from central.core.config import Settings
from edge.configfile import parse_edge_config
from edge.outbox import Outbox
from edge.video.capture import Frame
from edge.video.config import AnalysisConfig, CameraConfig, OpenCVDetectorConfig
from edge.video.detect.base import make_detector
from edge.video.pipeline import CameraPipeline
from edge.video.recording import RecordingError, RecordingStats, analyse_recording, probe, recording_frames
from edge.video.recording_job import plan_job
from edge.video.scene import HallScene
from edge.video.scene_timeline import Stint, Timeline, WindowPlan
from tests.browser import serve
from tests.central.devices.helpers import edge
from tests.edge.contract import free_port
from tests.edge.video.scene_configs import windows_yaml
from tests.once_per_run import once_per_run

__all__ = ["edge"]
FILE_FPS = 2.0  # analysed at 1 fps: every other frame is decoded and dropped
SCENE_SECONDS = 300.0
SOURCE = (960, 540)  # the recording's resolution; analysis at 640×360
# The clerk (person 0) leaves at 60 s and is back at 200 s: 140 s empty, past a 1-minute threshold.
TIMELINE = Timeline(
    SCENE_SECONDS,
    (
        WindowPlan(
            staff=(Stint(0, 0.0, 60.0), Stint(0, 200.0, SCENE_SECONDS)),
            customers=(Stint(3, 10.0, 50.0), Stint(3, 220.0, 280.0)),
        ),
    ),
)
DETECTOR = OpenCVDetectorConfig(type="opencv", min_size=32, scale_factor=1.15)


def write_h264(
    path: Path, frames: Iterator[np.ndarray], *, fps: float, size: tuple[int, int], start: datetime | None
) -> None:
    """An MP4 as an NVR exports it (libx264 through PyAV), with its creation_time when given."""
    with av.open(str(path), "w") as container:
        if start is not None:
            container.metadata["creation_time"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        stream = container.add_stream("libx264", rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.fixture(scope="session")
def hall_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, HallScene]:
    """Five minutes of a one-window hall with an absence past 1 minute, at 2 fps, 960×540: rendered and
    encoded once per test run (tests/once_per_run.py), the scene itself made again (it is cheap)."""
    done = once_per_run("recording", _encode_hall, fallback=tmp_path_factory.mktemp("recording"))
    return done / "hall.mp4", _scene()


def _scene() -> HallScene:
    return HallScene(1, timeline=TIMELINE, width=SOURCE[0], height=SOURCE[1])


def _encode_hall(directory: Path) -> None:
    scene = _scene()
    frames = (scene.render(k / FILE_FPS) for k in range(int(SCENE_SECONDS * FILE_FPS)))
    write_h264(directory / "hall.mp4", frames, fps=FILE_FPS, size=SOURCE, start=scene.start)


def camera() -> CameraConfig:
    return CameraConfig.model_validate({"name": "C1", "source": {"type": "generated"}, "analysis_fps": 1})


def stored(outbox: Outbox) -> list[dict[str, Any]]:
    return [json.loads(p.body) for p in outbox.pending(100_000)]


def test_the_file_says_when_it_was_recorded_and_its_frames_carry_that_time(hall_file) -> None:
    path, scene = hall_file
    info = probe(path)
    assert info.start == scene.start and (info.width, info.height, info.codec) == (*SOURCE, "h264")
    assert info.duration_seconds == pytest.approx(SCENE_SECONDS, abs=1)
    stats = RecordingStats()
    frames = recording_frames(path, start=scene.start, every_seconds=5.0, size=(640, 360), stats=stats)
    first = [next(frames) for _ in range(4)]
    frames.close()
    assert [f.at - scene.start for f in first] == [timedelta(seconds=s) for s in (0, 5, 10, 15)]
    assert first[0].image.shape == (360, 640, 3) and first[0].full.shape == (SOURCE[1], SOURCE[0], 3)
    assert stats.decoded == 31  # every frame decoded up to the 4th analysed one, only 4 converted


def test_a_recording_without_a_start_needs_one_given(tmp_path: Path) -> None:
    path = tmp_path / "export.mp4"
    write_h264(path, iter([np.zeros((90, 160, 3), np.uint8)] * 3), fps=2, size=(160, 90), start=None)
    config = parse_edge_config(
        "hall: H1\ncentral: {url: 'http://127.0.0.1:9'}\ncameras:\n  - {name: C1, source: {type: generated}}\n"
        "windows:\n  - {name: W01, camera: C1, staff_region: [[0,0],[0.1,0],[0.1,0.1]], "
        "customer_region: [[0,0.9],[0.1,0.9],[0.1,1]]}\n"
    )
    with pytest.raises(RecordingError, match="give --start"):
        plan_job(config, file=path, camera="C1", start=None)
    with pytest.raises(RecordingError, match=r"no camera 'C9'.*known: C1"):
        plan_job(config, file=path, camera="C9", start=None)
    notes = tmp_path / "notes.mp4"
    notes.write_text("minutes of the meeting", encoding="utf-8")
    with pytest.raises(RecordingError, match="not a readable video"):
        plan_job(config, file=notes, camera="C1", start=None)


def test_a_recording_analysed_finds_the_absences_a_live_run_finds_at_the_recordings_time(
    hall_file, tmp_path: Path
) -> None:
    path, scene = hall_file
    [window] = scene.window_configs(
        "C1", absence_threshold_minutes=1, working_hours=["00:00-24:00"], breaks=[], working_days="all"
    )
    analysis = AnalysisConfig(detector=DETECTOR)

    def pipeline(name: str, origin: Any) -> CameraPipeline:
        return CameraPipeline(
            camera(),
            [window],
            analysis=analysis,
            profile="sichuan-2011",
            outbox=Outbox(tmp_path / f"{name}.db"),
            detector=make_detector(DETECTOR),
            origin=origin,
        )

    live = pipeline("live", "live")
    small = HallScene(1, timeline=TIMELINE)  # the live camera at its analysis size
    for k in range(int(SCENE_SECONDS)):
        live.process(Frame(seq=k + 1, at=scene.start + timedelta(seconds=k), image=small.render(float(k))))
    live.finish()
    recorded = pipeline("recorded", "recording")
    stats = analyse_recording(path, recorded, start=scene.start)
    assert stats.analysed == int(SCENE_SECONDS) and stats.decoded == int(SCENE_SECONDS * FILE_FPS)

    def absences(box: Outbox) -> list[datetime]:
        return [
            datetime.fromisoformat(o["started_at"])
            for o in stored(box)
            if o["kind"] == "absence" and o["phase"] == "start"
        ]

    live_starts, recorded_starts = absences(live.outbox), absences(recorded.outbox)
    assert live_starts and len(recorded_starts) == len(live_starts)
    for a, b in zip(live_starts, recorded_starts, strict=True):
        assert abs(a - b) <= timedelta(seconds=2)  # H.264 loss may move a verdict by a frame or two
    truth = scene.truth.absences(window.name, live.schedules[window.name])
    assert abs(recorded_starts[0] - truth[0][0]) <= timedelta(seconds=30)
    observations = stored(recorded.outbox)
    assert all(o.get("origin") == "recording" for o in observations)
    assert not any("origin" in o for o in stored(live.outbox))  # live bodies as before
    evidence = [o for o in observations if o["kind"] == "evidence"]
    assert evidence and all(o["width"] == SOURCE[0] for o in evidence)  # the recording's own resolution


def test_edge_analyse_sends_a_recording_to_central_marked_as_recorded(
    hall_file,
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    client: TestClient,
    edge: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, scene = hall_file
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)  # yesterday, on the real clock
    windows = windows_yaml(
        scene, "C1", working_hours=["00:00-24:00"], breaks=[], working_days="all", absence_threshold_minutes=1
    )
    port = free_port()
    config = tmp_path / "hall.yaml"
    config.write_text(
        f"""\
hall: 510000-ZWFW
central: {{url: "http://127.0.0.1:{port}", key_env: TEST_EDGE_KEY, clock_sync_seconds: 0}}
outbox: {{path: {tmp_path / "outbox.db"}, initial_backoff_seconds: 0.05, max_backoff_seconds: 0.5}}
cameras:
  - {{name: C1, source: {{type: generated}}, analysis_fps: 1}}
analysis:
  detector: {{type: opencv, min_size: 32, scale_factor: 1.15}}
{windows}""",
        encoding="utf-8",
    )
    monkeypatch.setenv("TEST_EDGE_KEY", edge["EDGE-P"]["X-Device-Key"])
    with serve(create_app(settings, engine=db), port):
        result = CliRunner().invoke(
            cli,
            [
                "edge",
                "analyse",
                str(path),
                "--config",
                str(config),
                "--camera",
                "C1",
                "--start",
                start.isoformat(timespec="minutes"),
            ],
        )
    assert result.exit_code == 0, result.output
    assert "录像分析完成" in result.stdout and "已送达中心" in result.stdout
    absences = client.get("/api/v1/video/absences").json()["items"]
    assert absences and all(a["origin"] == "recording" for a in absences)
    first = datetime.fromisoformat(absences[-1]["started_at"])
    assert start < first < start + timedelta(seconds=SCENE_SECONDS)  # at the recording's time
    assert absences[-1]["evidence"]
