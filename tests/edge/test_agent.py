"""The whole edge agent: emulated keypad on a pty → reader → outbox → uploader → central, and back.

The kill -9 test runs the real `hallwatch edge run` in a subprocess and counts at the receiving side.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.agent import Agent, AgentBusyError
from edge.config import EdgeConfig
from edge.configfile import parse_edge_config
from edge.outbox import Outbox
from edge.video.capture import Frame
from edge.video.scene import HallScene
from edge.video.scene_timeline import Stint, Timeline, WindowPlan
from rating_device.emulator import KeypadEmulator
from rating_device.protocol import Prompt
from tests.browser import serve
from tests.edge.contract import KEY, Central, contract_app, free_port, wait_until

SETTLE = 30.0


def config_text(tmp_path: Path, port: int, *, batch_size: int = 1000) -> str:
    return f"""\
hall: 510000-ZWFW
central:
  url: http://127.0.0.1:{port}
  poll_wait_seconds: 1
  request_timeout_seconds: 10
outbox:
  path: {tmp_path / "outbox.db"}
  batch_size: {batch_size}
  initial_backoff_seconds: 0.05
  max_backoff_seconds: 0.5
keypads:
  - name: KP-W01
    port: {tmp_path / "keypad-W01"}
    window: W01
    reconnect_max_seconds: 0.2
    health_every_seconds: 2
    offline_after_seconds: 3
"""


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[KeypadEmulator]:
    with KeypadEmulator(1, tmp_path / "keypad-W01", heartbeat_seconds=0.5, seed=3) as emu:
        yield emu


def test_press_reaches_central_and_a_prompt_reaches_the_keypad(
    tmp_path: Path, emulator: KeypadEmulator
) -> None:
    central, port = Central(), free_port()
    agent = Agent(parse_edge_config(config_text(tmp_path, port)), key=KEY)
    with serve(contract_app(central), port):
        agent.start()
        try:
            with pytest.raises(AgentBusyError):  # one agent per outbox
                Agent(parse_edge_config(config_text(tmp_path, port)), key=KEY)
            assert emulator.wait_host(SETTLE)
            press = emulator.press(2)
            wait_until(lambda: len(central.presses()) == 1, what="the press at central")
            central.add_prompt(
                "W01", "CASE-7", expires_at=datetime.now(UTC) + timedelta(minutes=2), staff_name="王五"
            )
            wait_until(lambda: emulator.last_prompt is not None, what="the prompt on the keypad")
            wait_until(lambda: any(h["online"] for h in central.health()), what="an online health report")
        finally:
            agent.stop()
    [stored] = central.presses()
    assert stored["id"] == f"KP-W01:{press.seq}:{press.uptime_ms}" and stored["key"] == 2
    assert emulator.last_prompt == Prompt("王五", "", "CASE-7")
    assert emulator.counters().acked == 1


def spawn(config: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`hallwatch edge run CONFIG` in its own process (python -m central.cli is the same entry point)."""
    env = {**os.environ, "HALLWATCH_EDGE_KEY": KEY, **(env or {})}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "central.cli", "edge", "run", str(config)], env=env, stdout=out, stderr=out
        )


def test_kill_9_during_upload_then_restart_delivers_every_confirmed_press_once(
    tmp_path: Path, emulator: KeypadEmulator
) -> None:
    central, port = Central(delay_seconds=0.3), free_port()  # a slow central: uploads are in flight
    config = tmp_path / "hall.yaml"
    config.write_text(config_text(tmp_path, port, batch_size=10), encoding="utf-8")
    log = tmp_path / "agent.log"
    with serve(contract_app(central), port):
        first = spawn(config, log)
        try:
            assert emulator.wait_host(SETTLE), log.read_text()
            presses = emulator.press_many([5, 4, 3, 2, 1] * 20, interval=0.005)
            assert emulator.wait_settled(SETTLE)
            wait_until(lambda: central.in_flight > 0 and central.stored, what="an upload in flight")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        confirmed = emulator.counters()  # acked: stored by the edge before the keypad heard the ACK
        assert confirmed.lost == 0 and confirmed.acked > 0
        assert len(central.presses()) < confirmed.acked  # killed mid-way through the upload
        central.delay_seconds = 0
        second = spawn(config, log)
        try:
            wait_until(lambda: log.read_text().count("uploader started") == 2, what="the restarted agent")
            wait_until(lambda: len(central.presses()) >= confirmed.acked, what="the rest after restart")
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=60) == 0, log.read_text()
    sent = {f"KP-W01:{p.seq}:{p.uptime_ms}" for p in presses}
    stored = [p["id"] for p in central.presses()]
    assert set(stored) <= sent and len(stored) == len(set(stored))
    # every confirmed press; at most also one the keypad gave up on just before its ACK came
    assert confirmed.acked <= len(stored) <= confirmed.acked + confirmed.given_up
    assert max(central.deliveries[i] for i in stored) >= 2  # the batch in flight was sent again, kept once
    box = Outbox(tmp_path / "outbox.db")
    counts = box.counts()
    box.close()
    assert counts.rejected == 0
    assert "edge agent stopped" in log.read_text()


def test_keypads_get_the_verdict_of_the_camera_watching_their_window(tmp_path: Path) -> None:
    """W01 and W02 are analysed by camera C1 (a citizen at W01's counter only), C2 watches no window,
    W03 has a keypad and no camera: its presses carry no verdict at all."""
    timeline = Timeline(
        60.0,
        (
            WindowPlan(staff=(Stint(0, 0.0, 60.0),), customers=(Stint(3, 0.0, 60.0),)),
            WindowPlan(staff=(Stint(1, 0.0, 60.0),), customers=()),
        ),
    )
    scene = HallScene(["W01", "W02"], seed=2, timeline=timeline)
    generated = {"type": "generated"}
    config = EdgeConfig.model_validate(
        {
            "hall": "510000-ZWFW",
            "central": {"url": f"http://127.0.0.1:{free_port()}"},
            "outbox": {"path": str(tmp_path / "outbox.db")},
            "keypads": [
                {"name": f"KP-{w}", "port": str(tmp_path / f"keypad-{w}"), "window": w}
                for w in ("W01", "W02", "W03")
            ],
            "cameras": [{"name": "C1", "source": generated}, {"name": "C2", "source": generated}],
            "analysis": {"detector": {"type": "opencv", "min_size": 32, "scale_factor": 1.15}},
            "windows": [
                w.model_dump(mode="json")
                for w in scene.window_configs(
                    "C1", working_hours=["00:00-24:00"], breaks=[], working_days="all"
                )
            ],
        }
    )
    agent = Agent(config, key=KEY)  # built, not started: the pipeline is fed by hand
    try:
        [watching] = [c for c in agent.cameras if c.analyser is not None]
        hooks = {w: r.citizen_present for w, r in agent.readers.items()}
        assert hooks["W03"] is None
        at1, at2 = hooks["W01"], hooks["W02"]
        assert at1 is not None and at2 is not None
        assert at1(scene.start) is None  # no frame yet
        for k in range(40, 51):  # scene seconds 20 to 25 at 2 fps
            at = scene.start + timedelta(seconds=k / 2)
            watching.process(Frame(seq=k, at=at, image=scene.render(k / 2)))
        assert (at1(at), at2(at)) == (True, False)
    finally:
        agent.stop()
