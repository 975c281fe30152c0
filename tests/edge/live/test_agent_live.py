"""The edge agent publishes its generated camera live; a viewer in another process decodes it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.agent import Agent
from edge.configfile import parse_edge_config
from tests.edge.video.cameras import closed_port

WAIT_S = 90.0


def config_text(tmp_path: Path, live: str) -> str:
    return f"""\
hall: 510000-ZWFW
central:
  url: http://127.0.0.1:{closed_port()}
  clock_sync_seconds: 0
outbox:
  path: {tmp_path / "outbox.db"}
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
