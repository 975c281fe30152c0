"""Stopping loses nothing (issue #19, item 4), against the real central app on SQLite and PostgreSQL:
`hallwatch edge run` in its own process watches a recorded clip in which two citizens are served at
W01, then is stopped mid-hour —

- by SIGTERM: it closes the open presence interval and the hour's visits into the outbox and drains
  it to central before it exits, so central has both visits without a restart;
- by kill -9: the hour's visits were kept on disk as they changed (the outbox's provisional rows),
  and the next start sends them as the killed run's part of the hour.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path

import cv2
from sqlalchemy import Engine, select

from central.app import create_app
from central.core.config import Settings
from central.core.db import make_session_factory
from central.video.models import PresenceInterval, VisitorCount
from edge.video.scene import HallScene
from edge.video.scene_timeline import Stint, Timeline, WindowPlan
from tests.browser import serve
from tests.central.devices.helpers import edge
from tests.edge.contract import free_port, wait_until
from tests.edge.test_agent import spawn
from tests.edge.video.scene_configs import windows_yaml

__all__ = ["edge"]
FPS = 10.0
SECONDS = 28.0
# The clerk stays; two citizens sit 7 s each (visits need 3 s), 7 s apart.
TIMELINE = Timeline(
    SECONDS,
    (WindowPlan(staff=(Stint(0, 0.0, SECONDS),), customers=(Stint(3, 2.0, 9.0), Stint(3, 16.0, 23.0))),),
)
WAIT_S = 90.0  # generous: a failure means "never", not "slow"


def write_clip(path: Path, scene: HallScene, seconds: float) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (scene.width, scene.height))
    for k in range(int(seconds * FPS)):
        writer.write(scene.render(k / FPS))
    writer.release()


def config_text(tmp_path: Path, port: int, scene: HallScene, clip: str) -> str:
    windows = windows_yaml(
        scene,
        "CAM-1",
        masks=False,
        working_hours=["00:00-24:00"],
        breaks=[],
        working_days="all",
        visit_min_seconds=3,
    )
    return f"""\
hall: 510000-ZWFW
central:
  url: http://127.0.0.1:{port}
  poll_wait_seconds: 1
  clock_sync_seconds: 0
outbox:
  path: {tmp_path / "outbox.db"}
  initial_backoff_seconds: 0.05
  max_backoff_seconds: 0.5
  drain_on_stop_seconds: 30
cameras:
  - name: CAM-1
    source: {{type: file, path: {tmp_path / clip}, loop: false}}
    analysis_fps: 5
    stall_seconds: 60
analysis:
  detector: {{type: opencv, min_size: 32, scale_factor: 1.15}}
  present_after_seconds: 1
  empty_after_seconds: 2
{windows}"""


def provisional_visits(outbox: Path) -> int:
    """The visits the running agent keeps on disk for the current hour(s), read beside it."""
    if not outbox.exists():
        return 0
    with sqlite3.connect(outbox) as conn:
        try:
            rows = conn.execute("SELECT json_extract(body, '$.visits') FROM provisional").fetchall()
        except sqlite3.OperationalError:  # the agent has not created its tables yet
            return 0
    return sum(int(v) for (v,) in rows)


def visits_at_central(db: Engine) -> list[tuple[int, int]]:
    """(watched_from_second, visits) of every stored part of every hour."""
    with make_session_factory(db)() as s:
        rows = s.scalars(select(VisitorCount).order_by(VisitorCount.observation_id)).all()
        return [(r.watched_from_second, r.visits) for r in rows]


def presence_at_central(db: Engine) -> int:
    with make_session_factory(db)() as s:
        return len(s.scalars(select(PresenceInterval)).all())


def wait_for_two_provisional_visits(tmp_path: Path, log: Path) -> None:
    """Waits for the running agent's two visits; on failure shows what it saw (its log and the
    visits it kept), since a miss here is about the video analysis, not the stop."""
    outbox = tmp_path / "outbox.db"
    try:
        wait_until(lambda: provisional_visits(outbox) == 2, what="two visits", timeout=WAIT_S)
    except AssertionError as exc:
        seen = provisional_visits(outbox)
        raise AssertionError(f"{exc} (kept {seen}); agent log:\n{log.read_text()[-6000:]}") from exc


def start_agent(
    tmp_path: Path, port: int, edge: dict[str, dict[str, str]], clip: str
) -> subprocess.Popen[bytes]:
    scene = HallScene(["W01"], width=640, height=360, timeline=TIMELINE)
    config = tmp_path / f"hall-{clip}.yaml"
    config.write_text(config_text(tmp_path, port, scene, clip), encoding="utf-8")
    return spawn(config, tmp_path / "agent.log", {"HALLWATCH_EDGE_KEY": edge["EDGE-P"]["X-Device-Key"]})


def clips(tmp_path: Path) -> None:
    scene = HallScene(["W01"], width=640, height=360, timeline=TIMELINE)
    write_clip(tmp_path / "served.avi", scene, SECONDS)
    write_clip(tmp_path / "quiet.avi", scene, 1.0)  # the clerk alone: no visit


def test_sigterm_stores_the_hours_visits_and_drains_them_to_central_before_exit(
    tmp_path: Path, db: Engine, settings: Settings, edge: dict[str, dict[str, str]]
) -> None:
    clips(tmp_path)
    port = free_port()
    log = tmp_path / "agent.log"
    with serve(create_app(settings, engine=db), port):
        agent = start_agent(tmp_path, port, edge, "served.avi")
        try:
            wait_for_two_provisional_visits(tmp_path, log)
            assert visits_at_central(db) == []  # the hour is not over: nothing final sent yet
        finally:
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(timeout=WAIT_S) == 0, log.read_text()
        # No restart: what the stop stored is at central already.
        assert sum(v for _, v in visits_at_central(db)) == 2, log.read_text()
        assert presence_at_central(db) >= 1  # the clerk's open interval, closed by the stop
    assert provisional_visits(tmp_path / "outbox.db") == 0  # a clean stop leaves nothing provisional


def test_kill_9_mid_hour_loses_none_of_the_hours_visits(
    tmp_path: Path, db: Engine, settings: Settings, edge: dict[str, dict[str, str]]
) -> None:
    clips(tmp_path)
    port = free_port()
    log = tmp_path / "agent.log"
    with serve(create_app(settings, engine=db), port):
        first = start_agent(tmp_path, port, edge, "served.avi")
        try:
            wait_for_two_provisional_visits(tmp_path, log)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert visits_at_central(db) == []
        second = start_agent(tmp_path, port, edge, "quiet.avi")  # the same camera, nobody served now
        try:
            wait_until(lambda: sum(v for _, v in visits_at_central(db)) == 2, what="the killed run's visits")
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=WAIT_S) == 0, log.read_text()
        parts = visits_at_central(db)
    # The killed run's part (2 visits) and the second run's own part of the hour (none), added up.
    assert 2 in [v for _, v in parts] and sum(v for _, v in parts) == 2, parts
    assert "recovered from a run that did not stop cleanly" in log.read_text()
