"""The edge agent publishes its camera live (a generated one, and a real RTSP camera it also analyses);
a viewer in another process decodes it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from common.contract import AbsenceIn, CameraHealthIn, EvidenceIn
from edge.agent import Agent
from edge.configfile import parse_edge_config
from tests.edge.video.cameras import closed_port
from tests.rtsp_camera import STALL_SECONDS, RtspCamera

WAIT_S = 90.0


def config_text(tmp_path: Path, live: str) -> str:
    return f"""\
hall: 510000-ZWFW
central:
  url: http://127.0.0.1:{closed_port()}
  clock_sync_seconds: 0
outbox:
  path: {tmp_path / "outbox.db"}
  drain_on_stop_seconds: 0  # central is never there: stop at once
cameras:
  - name: CAM-1
    source: {{type: generated, scene: hall-2, fps: 10}}
    width: 640
    height: 360
{live}"""


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    live = (
        "live:\n  host_addresses: [127.0.0.1]\n  tile: {width: 320, height: 180, fps: 5, bitrate_kbps: 150}\n"
    )
    agent = Agent(parse_edge_config(config_text(tmp_path, live)), key="k")
    agent.start()
    yield agent
    agent.stop()


def watch_in_another_process(agent: Agent, profile: str, frames: int) -> dict[str, int]:
    assert agent.live is not None
    probe = subprocess.Popen(
        [sys.executable, "-m", "edge.live.probe", "--frames", str(frames), "--seconds", str(WAIT_S)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert probe.stdin is not None and probe.stdout is not None
    try:
        (offer,) = json.loads(probe.stdout.readline())["offers"]
        answer = agent.live.answer(offer, camera="CAM-1", profile=profile)  # type: ignore[arg-type]
        probe.stdin.write(json.dumps({"answers": [answer.sdp]}) + "\n")
        probe.stdin.flush()
        (report,) = json.loads(probe.stdout.readline())["viewers"]
        assert probe.wait(WAIT_S) == 0
    finally:
        probe.kill()
    stats = agent.live.viewer_stats(answer.viewer)
    assert stats is not None and stats.frames_sent >= report["frames"]
    return dict(report)


def test_a_viewer_in_another_process_decodes_the_agents_camera(agent: Agent) -> None:
    assert agent.live is not None
    assert watch_in_another_process(agent, "tile", 5) == {"frames": 5, "width": 320, "height": 180}
    # The focus profile is the camera's size here (never scaled up): 640x360.
    assert watch_in_another_process(agent, "focus", 5) == {"frames": 5, "width": 640, "height": 360}
    assert agent.live.online("CAM-1")
    assert agent.live.stream_stats("CAM-1", "tile").encoders_started == 1


@pytest.mark.parametrize("live", ["", "live:\n  enabled: false\n"])
def test_no_live_section_or_disabled_means_no_publisher(tmp_path: Path, live: str) -> None:
    agent = Agent(parse_edge_config(config_text(tmp_path, live)), key="k")
    try:
        assert agent.live is None
    finally:
        agent.outbox.close()


RTSP_WINDOW = """\
windows:
  - name: W01
    camera: CAM-1
    staff_region: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
    customer_region: [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]
    privacy_masks: [[[0.75, 0], [1, 0], [1, 0.5], [0.75, 0.5]]]
    working_hours: ["00:00-24:00"]
    breaks: []
    working_days: all
    absence_threshold_minutes: 0.05
"""


def observations(agent: Agent, kind: str) -> list[dict[str, Any]]:
    return [json.loads(p.body) for p in agent.outbox.pending(10_000) if p.kind == kind]


def wait_for_observations(agent: Agent, kind: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + WAIT_S
    while not (found := observations(agent, kind)):
        assert time.monotonic() < deadline, f"no {kind} observation"
        time.sleep(0.05)
    return found


def test_the_agent_analyses_and_publishes_a_real_rtsp_camera(tmp_path: Path, rtsp_camera: RtspCamera) -> None:
    """Presence analysis and the live view on one connection to an RTSP camera (H.264): nobody sits
    at W01, so after its 3-second threshold the agent reports an absence with a masked snapshot of
    the camera's picture, while a viewer decodes the camera live."""
    text = config_text(tmp_path, "live:\n  host_addresses: [127.0.0.1]\n" + RTSP_WINDOW).replace(
        "source: {type: generated, scene: hall-2, fps: 10}",
        f"source: {{type: stream, url: '{rtsp_camera.url}'}}\n    stall_seconds: {STALL_SECONDS}\n"
        "    analysis_fps: 5\n    health_every_seconds: 1",
    )
    agent = Agent(parse_edge_config(text), key="k")
    agent.start()
    try:
        assert watch_in_another_process(agent, "tile", 5) == {"frames": 5, "width": 240, "height": 180}
        (absence, *_) = [AbsenceIn.model_validate(o) for o in wait_for_observations(agent, "absence")]
        assert absence.window == "W01" and absence.camera == "CAM-1" and absence.phase == "start"
        (evidence,) = [EvidenceIn.model_validate(o) for o in observations(agent, "evidence")]
        assert evidence.id in absence.evidence and evidence.width == 320
        jpeg = np.frombuffer(base64.b64decode(evidence.jpeg_base64), np.uint8)
        # The camera's own picture at its own size (above the caption band): red left quarter, blue
        # top, the masked corner black.
        picture = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
        assert picture is not None and picture.shape == (evidence.height, 320, 3) and evidence.height > 240
        snapshot = picture[:240]
        assert np.abs(np.median(snapshot[:200, :72].reshape(-1, 3), axis=0) - (0, 0, 220)).max() < 24
        assert np.abs(np.median(snapshot[:110, 90:230].reshape(-1, 3), axis=0) - (200, 60, 0)).max() < 24
        assert snapshot[4:116, 244:316].max() < 40
        health = [CameraHealthIn.model_validate(o) for o in observations(agent, "camera_health")]
        assert any(h.online and (h.width, h.height) == (320, 240) for h in health)
        assert agent.cameras[0].stats.frames > 0 and agent.cameras[0].stats.errors == 0
        # Analysis and live view read the camera through one reader: one connection, one session.
        assert rtsp_camera.connections == rtsp_camera.sessions == rtsp_camera.clients_now == 1
    finally:
        agent.stop()
