"""`hallwatch display run` as a display PC runs it: a process of its own, stopped by SIGTERM, its copy
of the feed on disk for the next start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.hall_display.fake_central import FakeCentral
from tests.hall_display.harness import TEST_KEY, WAIT_SECONDS, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_the_agent_process_serves_and_stops_on_sigterm_keeping_its_copy(
    tmp_path: Path, fake_central: FakeCentral
) -> None:
    port = free_port()
    config = tmp_path / "hall.yaml"
    config.write_text(
        f"hall: 510000-ZWFW\ncentral:\n  url: {fake_central.url}\ndisplays:\n"
        f"  - {{name: LED-1, kind: led, listen_port: {port}, key_env: LED_KEY}}\n"
        f"  - {{name: TV-1, kind: tv}}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "LED_KEY": TEST_KEY, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", "from central.cli.main import app; app()", "display", "run", str(config)]
    process = subprocess.Popen(
        [*command, "--display", "LED-1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        progress = f"http://127.0.0.1:{port}/api/v1/public/halls/510000-ZWFW/progress"
        wait_for(lambda: _get(progress) == 200, "the agent serving the feed")
        assert fake_central.streams_opened()[0].headers["x-device-key"] == TEST_KEY
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    saved = json.loads((tmp_path / "var" / "display-LED-1" / "feed.json").read_text(encoding="utf-8"))
    assert saved["snapshot"]["last_event_id"] == 7 and len(saved["snapshot"]["cases"]) == 2


def _get(url: str) -> int:
    try:
        return httpx.get(url).status_code
    except httpx.TransportError:
        return 0
