"""The demo's live hall: emulated keypads on ptys, the real edge agent, and citizens being served.

Every few seconds a citizen is served at one of the hall's windows where the camera sees someone at
the counter (the scene's citizens come and go): the case event goes through the
real push API (which prompts the window's keypad through the edge agent's command channel), and
a moment later the citizen presses a key on the emulated keypad; the press travels keypad → pty →
edge reader → outbox → HTTP → central, where it is bound to the case. Now and then a citizen
corrects their press at once, or presses without being served (an unbound window rating); and now
and then a clerk presses their own keypad with nobody at the counter, which central keeps, marked
无人在场, at no weight (RULES: a staff member must not rate themselves).

The hall also has a camera: a generated scene (edge.video.scene) in which staff come and go and
citizens sit down, read by the same capture code as an RTSP camera and analysed by the real window
analysers, so presence, absences (离岗, judged after 3 minutes in the demo, every day and hour) with
their masked evidence, visitor counts and camera health reach central like a real hall's. Yesterday
morning's recording of the same camera is analysed too (central.demo.recorded_footage), as an
inspector auditing the day before would.
"""

from __future__ import annotations

import logging
import random
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.core.actor import Actor
from central.demo.displays import DisplayKey, HallDisplays, KioskCase, demo_kiosk_case, register_displays
from central.demo.recorded_footage import analyse_yesterday
from central.devices.keys import issue_key
from central.public.jobs import refresh_public_feeds
from central.registry.models import Device, Hall, Item, ServiceWindow, Staff
from common.profiles import DEFAULT_PROFILE_KEY
from edge.agent import Agent
from edge.config import EdgeConfig
from edge.configfile import parse_edge_config
from edge.video.scene import make_scene
from rating_device.emulator import KeypadEmulator

logger = logging.getLogger(__name__)

# How citizens rate (5 非常满意 … 1 非常不满意): mostly satisfied, 差评 a few percent.
KEY_SHARES = {5: 0.62, 4: 0.22, 3: 0.09, 2: 0.04, 1: 0.03}
CLERK_PRESS_SHARE = 0.03  # rounds in which a clerk presses their own keypad with nobody at the counter
DEMO_SCENE, DEMO_CAMERA = "hall", "CAM-HALL"
FEED_KEEP = timedelta(hours=48)  # the feed's changes kept for screens that resume (nothing is older yet)


@dataclass(frozen=True)
class WindowPlan:
    """What a citizen served at this window brings: an item of its department and a staff member."""

    window: str
    staff: str
    item: str


@dataclass(frozen=True)
class HallPlan:
    hall: str
    edge_key: str
    windows: list[WindowPlan]
    displays: tuple[DisplayKey, ...] = ()  # the hall's screens, registered with their keys
    kiosk_case: KioskCase | None = None  # a case whose query password is known (the kiosk's lookup)


class SimulatedHall:
    def __init__(
        self,
        plan: HallPlan,
        *,
        base_url: str,
        username: str,
        password: str,
        every_seconds: float = 8.0,
        workdir: Path | None = None,
        seed: int = 20261128,
        recording: bool = True,
        display_ports: Mapping[str, int] | None = None,
        display_host: str = "127.0.0.1",
    ) -> None:
        self.plan, self.base_url = plan, base_url.rstrip("/")
        self._login = {"username": username, "password": password}
        self.every_seconds = every_seconds
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="hallwatch-demo-hall-"))
        self._rng = random.Random(seed)
        self.recording = recording  # yesterday's footage analysed too (tests of the live parts skip it)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._keypads: dict[str, KeypadEmulator] = {}
        self._agent: Agent | None = None
        self._token: str | None = None
        self.served = 0
        # The hall's screens, each on the port given by its name (the demo: DEMO_DISPLAY_PORTS); none
        # without ports (the tests of the other live parts).
        self.displays = HallDisplays(
            plan.displays,
            hall=plan.hall,
            central_url=self.base_url,
            host=display_host,
            ports=display_ports or {},
            workdir=self.workdir,
        )

    def start(self) -> SimulatedHall:
        for n, window in enumerate(self.plan.windows, start=1):
            self._keypads[window.window] = KeypadEmulator(n, self.workdir / f"keypad-{window.window}").start()
        config = self.edge_config()
        self._agent = Agent(config, key=self.plan.edge_key)
        self._agent.start()
        if self.recording:
            self._analyse_yesterday(config)
        self._thread = threading.Thread(target=self._citizens, name="demo-citizens", daemon=True)
        self._thread.start()
        self.displays.start()
        logger.info("demo hall %s: %d keypads in %s", self.plan.hall, len(self._keypads), self.workdir)
        return self

    def _analyse_yesterday(self, config: EdgeConfig) -> None:
        threading.Thread(  # yesterday's NVR export, analysed as an inspector would (录像分析)
            target=analyse_yesterday,
            args=(config,),
            kwargs={
                "camera": DEMO_CAMERA,
                "key": self.plan.edge_key,
                "workdir": self.workdir,
                "now": datetime.now(UTC),
            },
            name="demo-recording",
            daemon=True,
        ).start()

    def stop(self) -> None:
        """Stop everything started (once: the demo stops the hall before central, and again after)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.displays.stop()
        if self._agent:
            self._agent.stop()
        for keypad in self._keypads.values():
            keypad.close()

    def edge_config(self) -> EdgeConfig:
        """The hall's agent config: its keypads, the camera over its windows, live view on loopback."""
        return parse_edge_config(self._edge_config_text(), origin="demo hall")

    def _edge_config_text(self) -> str:
        keypads = "".join(
            f"  - name: KP-{w.window}\n    port: {self.workdir / f'keypad-{w.window}'}\n    window: {w.window}\n"
            for w in self.plan.windows
        )
        return (
            f"hall: {self.plan.hall}\ncentral:\n  url: {self.base_url}\n  poll_wait_seconds: 10\n"
            f"outbox:\n  path: {self.workdir / 'outbox.db'}\n  max_backoff_seconds: 5\nkeypads:\n{keypads}"
            + yaml.safe_dump(self._video_sections(), allow_unicode=True, sort_keys=False)
        )

    def _video_sections(self) -> dict[str, Any]:
        """One generated camera over the hall's windows, regions as the scene lays them out."""
        scene = make_scene(DEMO_SCENE, seed=0, width=640, height=360)
        windows = scene.window_configs(
            DEMO_CAMERA,
            working_hours=["00:00-24:00"],
            breaks=[],
            working_days="all",
            absence_threshold_minutes=3,
        )
        sections = [
            {**config.model_dump(mode="json", exclude_none=True), "name": plan.window}
            for config, plan in zip(windows, self.plan.windows, strict=False)
        ]
        camera = {"name": DEMO_CAMERA, "source": {"type": "generated", "scene": DEMO_SCENE, "fps": 4}}
        # Live view for the console's 实时视频 page, offered on loopback only (the demo serves
        # 127.0.0.1; no ICE servers anywhere: aiortc's default would be a public STUN server).
        live = {"host_addresses": ["127.0.0.1"]}
        return {"cameras": [camera], "windows": sections, "live": live}

    def _citizens(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while not self._stop.wait(self.every_seconds * self._rng.uniform(0.5, 1.5)):
                try:
                    self._serve_one(client)
                except (httpx.HTTPError, RuntimeError) as exc:  # central restarting, keypad replugged …
                    logger.warning("demo citizen not served: %s", exc)

    def _serve_one(self, client: httpx.Client) -> None:
        """Serve a citizen the camera sees at a counter; now and then a clerk with nobody there rates."""
        now = datetime.now(UTC)
        verdicts = {w.window: self._citizen_at(w.window, now) for w in self.plan.windows}
        empty = [w for w in self.plan.windows if verdicts[w.window] is False]
        if empty and self._rng.random() < CLERK_PRESS_SHARE:
            # the keypad is within the clerk's reach: central keeps the rating, marked 无人在场, weightless
            self._keypads[self._rng.choice(empty).window].press(5)
            return
        seated = [w for w in self.plan.windows if verdicts[w.window] is not False]
        if not seated:
            return  # nobody at any counter (as the camera sees it): nobody to serve this round
        window = self._rng.choice(seated)
        keypad = self._keypads[window.window]
        if self._rng.random() < 0.9:  # served: the case event prompts the keypad
            self._push_case(client, window)
            self._stop.wait(self._rng.uniform(1.5, 4.0))
        key = self._rng.choices(list(KEY_SHARES), weights=list(KEY_SHARES.values()))[0]
        keypad.press(key)
        if self._rng.random() < 0.08:  # pressed the wrong key and corrects it at once
            self._stop.wait(self._rng.uniform(1.0, 3.0))
            keypad.press(min(5, key + 1))
        self.served += 1

    def _citizen_at(self, window: str, now: datetime) -> bool | None:
        """What the edge agent's camera says of `window`'s counter (None: it cannot tell yet)."""
        reader = self._agent.readers.get(window) if self._agent else None
        hook = reader.citizen_present if reader else None
        return hook(now) if hook else None

    def _push_case(self, client: httpx.Client, window: WindowPlan) -> None:
        now = datetime.now(UTC)
        case_no = f"DEMO-{now:%Y%m%d%H%M%S}-{self._rng.randrange(1000):03d}"
        event = {
            "event_id": f"{case_no}-accepted",
            "case_no": case_no,
            "type": "accepted",
            "at": now.isoformat(),
            "item_code": window.item,
            "hall_code": self.plan.hall,
            "window_code": window.window,
            "staff_code": window.staff,
        }
        response = client.post("/api/v1/cases/events", json=[event], headers=self._auth(client))
        if response.status_code == 401:
            self._token = None
            response = client.post("/api/v1/cases/events", json=[event], headers=self._auth(client))
        response.raise_for_status()

    def _auth(self, client: httpx.Client) -> dict[str, str]:
        if self._token is None:
            answer = client.post("/api/v1/auth/token", data=self._login)
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return {"Authorization": f"Bearer {self._token}"}


def plan_hall(
    session: Session,
    *,
    hall_code: str,
    windows: int,
    now: datetime,
    default_profile_key: str = DEFAULT_PROFILE_KEY,
) -> HallPlan:
    """Register the hall's edge box and displays with their keys, and what citizens at its first windows
    bring; give one of its cases a known query password; put the seeded data on every hall's screens
    (the seeding wrote no feed: without this they would wait for the feed job's first pass)."""
    hall = session.scalars(select(Hall).where(Hall.code == hall_code)).one()
    code = f"EDGE-{hall_code}"  # the demo's history may have registered it already
    device = session.scalars(select(Device).where(Device.code == code)).first()
    if device is None:
        device = Device(code=code, kind="edge", name=f"{hall.name}边缘盒", hall_id=hall.id)
        session.add(device)
        session.flush()
    key = issue_key(
        session, device=device, now=now, issued_by=None, actor=Actor(kind="system", name="demo")
    ).key
    plans: list[WindowPlan] = []
    rows = session.scalars(
        select(ServiceWindow).where(ServiceWindow.hall_id == hall.id).order_by(ServiceWindow.code)
    )
    for window in rows.all()[:windows]:
        staff = session.scalars(
            select(Staff.code).where(Staff.window_id == window.id).order_by(Staff.code)
        ).first()
        item = session.scalars(
            select(Item.code).where(Item.department_id == window.department_id).order_by(Item.code)
        ).first()
        if staff and item:
            plans.append(WindowPlan(window=window.code, staff=staff, item=item))
    displays = tuple(register_displays(session, hall=hall, now=now))
    session.commit()
    kiosk_case = demo_kiosk_case(session, hall=hall, now=now)
    refresh_public_feeds(session, now=now, default_key=default_profile_key, keep=FEED_KEEP)
    return HallPlan(hall=hall_code, edge_key=key, windows=plans, displays=displays, kiosk_case=kiosk_case)


def wait_until_up(base_url: str, *, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False
