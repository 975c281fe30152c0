"""Time from opening a window's live view to its first decoded frame, through the whole real path.

Central (the app under uvicorn on 127.0.0.1, SQLite in a scratch directory), a real edge agent with
a generated camera and `live:` on, connected over its WebSocket channel, and the console's 实时视频
page (central/web/static/live.js, unchanged) in headless Chromium, signed in as a provincial
inspector. Each view is opened as an inspector opens it, by clicking the tile: live.js ends the
current view and starts the other profile's (focus, then tile again, …): its offer (ICE gathered,
non-trickle), `POST /api/v1/live/offer`, central's relay to the agent and back, the agent's answer,
ICE and DTLS on loopback, the keyframe the new viewer asks for, decoding. The bench's own script
(Playwright `evaluate`) notes the click time and the new stream's first frame
(requestVideoFrameCallback), both on the page's clock; the offer request's own timing
(PerformanceResourceTiming) splits it into before the offer is posted, the relay, and after the
answer. Loopback only: no ICE servers anywhere, the agent offers 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from bench.live_browser import browser_page
from central.access.roles import Role
from central.access.service import create_user
from central.app import create_app
from central.core.actor import Actor
from central.core.config import Settings
from central.core.db import make_engine, make_session_factory
from central.core.migrate import upgrade
from central.devices.keys import issue_key
from central.patrols.key import generate_key_file
from central.registry.models import Device, Hall, Region
from central.video.models import CameraState
from edge.agent import Agent
from edge.configfile import parse_edge_config
from tests.browser import serve, sign_in

logger = logging.getLogger(__name__)

HALL = "510000-ZWFW"
USER, PASSWORD = "bench-inspector", "correct-horse-battery-2026"
READY_TIMEOUT_S = 120.0
VIEW_TIMEOUT_MS = 30_000
SETTLE_S = 1.0  # between views: the ended view's close reaches the edge
# One view: click the tile, wait for the new stream's first presented frame. Times on the page's
# clock (ms); the offer request's timing, if the browser kept it, splits the wait.
OPEN_VIEW = """async (timeoutMs) => {
  const tile = document.querySelector(".live-tile");
  const video = tile.querySelector("video");
  const before = video.srcObject;
  performance.clearResourceTimings();
  const started = performance.now();
  tile.click();
  const presented = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no frame within " + timeoutMs + " ms")), timeoutMs);
    const check = () => {
      if (video.srcObject && video.srcObject !== before) {
        video.requestVideoFrameCallback((now, meta) => { clearTimeout(timer); resolve(meta.presentationTime); });
      } else {
        requestAnimationFrame(check);
      }
    };
    check();
  });
  const offer = performance.getEntriesByType("resource")
    .filter((e) => e.name.endsWith("/api/v1/live/offer") && e.startTime >= started).pop();
  return {
    profile: tile.classList.contains("live-focus") ? "focus" : "tile",
    total: presented - started,
    posted: offer ? offer.startTime - started : null,
    answered: offer ? offer.responseEnd - started : null
  };
}"""


@dataclass(frozen=True)
class OpenedView:
    profile: str
    total_ms: float  # click → first frame presented
    posted_ms: float | None  # click → offer posted (offer made, ICE gathered)
    answered_ms: float | None  # click → answer received (central's relay and the edge's answer)


def seed(engine: Engine) -> str:
    """The hall, its edge box (returns its key) and a provincial inspector."""
    now = datetime.now(UTC)
    actor = Actor(kind="cli", name="bench")
    with make_session_factory(engine)() as session:
        region = Region(code="510000", name="四川省", level="province")
        session.add(region)
        session.flush()
        hall = Hall(code=HALL, name="四川省政务服务中心", region_id=region.id, level="provincial")
        session.add(hall)
        session.flush()
        device = Device(code="EDGE-BENCH", kind="edge", name="省中心边缘盒", hall_id=hall.id)
        session.add(device)
        session.flush()
        key = issue_key(session, device=device, now=now, issued_by=None, actor=actor).key
        create_user(
            session,
            username=USER,
            password=PASSWORD,
            role=Role.INSPECTOR,
            scope_code="region:510000",
            display_name=None,
            granted_by=None,
            now=now,
            actor=actor,
        )
        session.commit()
    return key


def agent_config(scratch: Path, url: str, *, camera_fps: float) -> str:
    # The demo's camera size (a 720p scene costs the generator half a core at 10 fps): the focus
    # profile sends it at its own 640x360 (never scaled up).
    return f"""\
hall: {HALL}
central:
  url: {url}
  clock_sync_seconds: 0
outbox:
  path: {scratch / "outbox.db"}
cameras:
  - name: CAM-1
    source: {{type: generated, scene: hall-2, fps: {camera_fps:g}}}
    width: 640
    height: 360
live:
  host_addresses: [127.0.0.1]
"""


def camera_online(engine: Engine) -> bool:
    with make_session_factory(engine)() as session:
        state = session.scalar(select(CameraState).where(CameraState.camera == "CAM-1"))
        return state is not None and state.online


def wait_for(what: str, ready: Any, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)


@contextmanager
def hall_and_central(scratch: Path, *, camera_fps: float) -> Iterator[str]:
    """Central serving on loopback with the hall's agent connected and its camera online there."""
    engine = make_engine(f"sqlite:///{scratch / 'central.db'}")
    upgrade(engine)
    key = seed(engine)
    generate_key_file(scratch / "patrol.key")
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        signal_interval_seconds=0,
        patrol_plan_interval_seconds=0,
        patrol_key_file=scratch / "patrol.key",
    )
    app = create_app(settings, engine=engine)
    try:
        with serve(app) as url:
            agent = Agent(parse_edge_config(agent_config(scratch, url, camera_fps=camera_fps)), key=key)
            agent.start()
            try:
                wait_for("the agent's channel", agent.commands.connected.is_set)
                wait_for("the camera online at central", lambda: camera_online(engine))
                yield url
            finally:
                agent.stop()
    finally:
        app.state.notifier.stop()
        engine.dispose()


def open_views(scratch: Path, *, views: int, camera_fps: float) -> list[OpenedView]:
    opened = []
    with hall_and_central(scratch, camera_fps=camera_fps) as url, browser_page(url) as tab:
        sign_in(tab, url, USER, PASSWORD)
        tab.wait_for_url(lambda u: "/console/login" not in u)
        tab.goto(f"{url}/console/live/{HALL}")
        tab.wait_for_function(
            "() => Number(document.querySelector('.live-tile').dataset.framesDecoded || 0) >= 1",
            timeout=VIEW_TIMEOUT_MS,
        )
        for _ in range(views):
            time.sleep(SETTLE_S)
            found: dict[str, Any] = tab.evaluate(OPEN_VIEW, VIEW_TIMEOUT_MS)
            opened.append(OpenedView(found["profile"], found["total"], found["posted"], found["answered"]))
            logger.info("view %d: %s", len(opened), opened[-1])
    return opened
