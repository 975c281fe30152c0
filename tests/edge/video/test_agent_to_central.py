"""The whole video chain against the real central app, on SQLite and PostgreSQL: a video file of a
generated hall → camera reader → window analyser → evidence → outbox → real HTTP (uvicorn on loopback)
→ central → the absence an inspector confirms into a signal.

The file is a time-lapse: each frame shows SPEED × its real duration of scene time, and the edge
clock runs SPEED times faster, so ten minutes of hall happen in thirty seconds and every frame's time
matches what it shows.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import cv2
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from central.app import create_app
from central.core.config import Settings
from edge.agent import Agent
from edge.configfile import parse_edge_config
from edge.video.scene import HallScene
from edge.video.scene_timeline import Stint, Timeline, WindowPlan
from tests.browser import serve
from tests.central.devices.helpers import edge
from tests.conftest import FakeClock
from tests.edge.contract import free_port, wait_until
from tests.edge.video.scene_configs import windows_yaml

__all__ = ["edge"]
SPEED = 20.0  # scene seconds per real second
FILE_FPS = 10.0
SCENE_SECONDS = 600.0
# W01's clerk (person 0) leaves after 150 s and is back at 420 s: 270 s empty, past a 3-minute threshold.
TIMELINE = Timeline(
    SCENE_SECONDS,
    (
        WindowPlan(
            staff=(Stint(0, 0.0, 150.0), Stint(0, 420.0, SCENE_SECONDS)),
            customers=(Stint(3, 20.0, 140.0), Stint(3, 440.0, 580.0)),
        ),
    ),
)


class SceneClock:
    """The edge's clock: runs SPEED times faster than real time from `start`."""

    def __init__(self, start: datetime) -> None:
        self.start, self._t0 = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * SPEED)


def write_time_lapse(scene: HallScene, path: Path) -> None:
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter.fourcc(*"MJPG"), FILE_FPS, (scene.width, scene.height)
    )
    for k in range(int(SCENE_SECONDS / SPEED * FILE_FPS)):
        writer.write(scene.render(k * SPEED / FILE_FPS))
    writer.release()


def config_text(tmp_path: Path, port: int, scene: HallScene) -> str:
    windows = windows_yaml(
        scene,
        "CAM-1",
        working_hours=["00:00-24:00"],
        breaks=[],
        working_days="all",
        absence_threshold_minutes=3,
        visit_min_seconds=60,
    )
    return f"""\
hall: 510000-ZWFW
central:
  url: http://127.0.0.1:{port}
  poll_wait_seconds: 1
  clock_sync_seconds: 0  # the edge runs on scene time, on purpose
outbox:
  path: {tmp_path / "outbox.db"}
  initial_backoff_seconds: 0.05
  max_backoff_seconds: 0.5
cameras:
  - name: CAM-1
    source: {{type: file, path: {tmp_path / "hall.avi"}, loop: false}}
    analysis_fps: {FILE_FPS}
    stall_seconds: 2
    health_every_seconds: 1
analysis:
  detector: {{type: opencv, min_size: 32, scale_factor: 1.15}}
  recheck_seconds: 20
{windows}"""


def test_an_absence_seen_by_the_camera_reaches_central_with_evidence_and_becomes_a_signal(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
) -> None:
    start = clock() - timedelta(minutes=15)  # central's clock stands at the end of the scene + 5 min
    scene = HallScene(["W01"], width=640, height=360, timeline=TIMELINE, start=start)
    write_time_lapse(scene, tmp_path / "hall.avi")
    port = free_port()
    config = parse_edge_config(config_text(tmp_path, port, scene))
    agent = Agent(config, key=edge["EDGE-P"]["X-Device-Key"], clock=SceneClock(start))
    with serve(create_app(settings, engine=db, clock=clock), port):
        agent.start()
        try:
            ended = lambda: [  # noqa: E731
                a for a in client.get("/api/v1/video/absences").json()["items"] if a["ended_at"] is not None
            ]
            wait_until(lambda: bool(ended()), what="an ended absence at central", timeout=120)
            wait_until(lambda: agent.outbox.counts().pending == 0, what="an empty outbox")
        finally:
            agent.stop()
        # stop() stored the open presence interval and the hour's visits; let the last upload land.
        [absence] = ended()
    started, finished = (datetime.fromisoformat(absence[k]) for k in ("started_at", "ended_at"))
    # Truth: the seat is empty from scene second 150 to 420. The frames' times come from a paced
    # real-time read (a loaded machine drops some), so only the order is asserted here; the accuracy
    # against the truth is tests/edge/video/test_presence.py's, on frames at exact times.
    left, back = start + timedelta(seconds=150), start + timedelta(seconds=420)
    assert start < started < back and left < finished and started < finished
    assert absence["camera"] == "CAM-1" and absence["status"] == "pending" and absence["evidence"]
    assert {e["reason"] for e in absence["evidence"]} == {"absence_start", "absence_end"}
    evidence = client.get(f"/api/v1/evidence/{absence['evidence'][0]['id']}")
    assert evidence.status_code == 200, evidence.text
    image = client.get(f"/api/v1/evidence/{absence['evidence'][0]['id']}/image")
    assert image.status_code == 403  # SC-18: viewing needs an approved grant
    cameras = client.get("/api/v1/video/halls/510000-ZWFW/cameras").json()
    assert [c["camera"] for c in cameras] == ["CAM-1"]
    confirmed = client.post(f"/api/v1/video/absences/{absence['id']}/confirm", json={"note": "监控确认离岗"})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["signal_id"] is not None
