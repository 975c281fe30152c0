"""The demo hall's screens (issue 16): its three displays, as camera_configs/demo-hall.yaml names them,
registered as devices with keys of their own and each run by the real display agent, in a thread of
the demo's process (`hall_display.agent.AgentThread`), serving its page on the demo's host. A display
whose port is taken is said and left out: the demo goes on without it.

The seeded cases were stored through the push path, which gave each a query password and handed it
back to the seeder, who kept none; one open case of the hall gets a new one here, printed, so a person
can try the kiosk's lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.cases.lights import OPEN_VALUES
from central.cases.models import Case
from central.cases.query_password import reissue_query_password
from central.core.actor import Actor
from central.devices.keys import issue_key
from central.registry.jurisdiction import ScopeKind, jurisdiction_of
from central.registry.models import Device, Hall
from common.display_config import DisplayKind
from hall_display.agent import AgentStartError, AgentThread, DisplayAgent
from hall_display.config import DisplaySettings, parse_display_config

logger = logging.getLogger(__name__)

DEMO_ACTOR = Actor(kind="system", name="demo")
START_SECONDS = 20.0  # the most a display agent may take to serve its page
STOP_SECONDS = 10.0
RECONNECT_MAX_SECONDS = 5.0  # the demo's central restarts in seconds: its screens follow soon after
PAGE_LABELS: dict[str, str] = {"tv": "进度看板", "led": "LED 滚动屏", "kiosk": "自助查询机"}


@dataclass(frozen=True)
class DemoDisplay:
    """One of the demo hall's displays, as camera_configs/demo-hall.yaml has it."""

    name: str
    kind: DisplayKind
    port: int  # the demo's default (tests choose free ones)
    sections: Mapping[str, Any] = field(default_factory=dict)  # its kind's section (led, kiosk)

    @property
    def label(self) -> str:
        led = self.sections.get("led")
        size = f"（{led['width']}×{led['height']}）" if led else ""
        return f"{PAGE_LABELS[self.kind]}{size}"


DEMO_DISPLAYS = (
    DemoDisplay("TV-HALL", "tv", 8090),
    DemoDisplay("LED-HALL", "led", 8091, {"led": {"width": 384, "height": 64, "speed_px_per_second": 60}}),
    DemoDisplay("KIOSK-HALL", "kiosk", 8092, {"kiosk": {"idle_seconds": 60}}),
)
DEMO_DISPLAY_PORTS: Mapping[str, int] = {display.name: display.port for display in DEMO_DISPLAYS}


@dataclass(frozen=True)
class DisplayKey:
    """A display registered at central, with its device key."""

    display: DemoDisplay
    device_code: str
    key: str


@dataclass(frozen=True)
class KioskCase:
    """A case of the hall whose query password is known, to try the kiosk's lookup with."""

    case_no: str
    password: str

    def line(self) -> str:
        return f"办件查询演示：办件编号 {self.case_no}，查询密码 {self.password}"


@dataclass(frozen=True)
class DisplayStatus:
    """How a display's start went: its page's URL, or why it is not there."""

    display: DemoDisplay
    url: str
    problem: str | None = None

    def line(self) -> str:
        if self.problem is None:
            return f"  大厅屏幕  {self.display.label} {self.url}"
        return f"  大厅屏幕  {self.display.label} 未启动：{self.problem}（演示继续，没有这块屏幕）"


def register_displays(session: Session, *, hall: Hall, now: datetime) -> list[DisplayKey]:
    """The hall's display devices and a key for each (not committed: the caller's planning step)."""
    keys: list[DisplayKey] = []
    for display in DEMO_DISPLAYS:
        device = Device(
            code=f"DISPLAY-{display.name}",
            kind="display",
            name=f"{hall.name}{display.label}",
            hall_id=hall.id,
        )
        session.add(device)
        session.flush()
        issued = issue_key(session, device=device, now=now, issued_by=None, actor=DEMO_ACTOR)
        keys.append(DisplayKey(display=display, device_code=device.code, key=issued.key))
    return keys


def demo_kiosk_case(session: Session, *, hall: Hall, now: datetime) -> KioskCase | None:
    """A new query password for the hall's first open case with a due date (a timeline worth showing;
    else its first open case, else its first case): None if it has none. Commits (the reissue is
    audited as the demo's)."""
    first = select(Case.case_no).where(Case.hall_id == hall.id).order_by(Case.case_no).limit(1)
    open_ = first.where(Case.status.in_(OPEN_VALUES))
    case_no = (
        session.scalar(open_.where(Case.promised_due_date.is_not(None)))
        or session.scalar(open_)
        or session.scalar(first)
    )
    if case_no is None:
        return None
    within = jurisdiction_of(session, kind=ScopeKind.HALL, scope_id=hall.id)
    password = reissue_query_password(session, case_no=case_no, within=within, actor=DEMO_ACTOR, now=now)
    return KioskCase(case_no=case_no, password=password) if password is not None else None


def agent_settings(
    display: DemoDisplay, *, hall: str, central_url: str, host: str, port: int, workdir: Path
) -> DisplaySettings:
    """The display's settings, read from its hall-config entry by the agent's own reader."""
    entry = {
        "name": display.name,
        "kind": display.kind,
        "listen_host": host,
        "listen_port": port,
        "cache_dir": str(workdir / f"display-{display.name}"),
        "reconnect_max_seconds": RECONNECT_MAX_SECONDS,
        **display.sections,
    }
    text = yaml.safe_dump(
        {"hall": hall, "central": {"url": central_url}, "displays": [entry]},
        allow_unicode=True,
        sort_keys=False,
    )
    return parse_display_config(text, display.name, origin="demo hall")


class HallDisplays:
    """The hall's display agents, each on the port `ports` gives it (one left out is not run)."""

    def __init__(
        self,
        keys: Sequence[DisplayKey],
        *,
        hall: str,
        central_url: str,
        host: str,
        ports: Mapping[str, int],
        workdir: Path,
    ) -> None:
        self.keys = [key for key in keys if key.display.name in ports]
        self.hall, self.central_url, self.host = hall, central_url, host
        self.ports, self.workdir = ports, workdir
        self.running: list[AgentThread] = []
        self.statuses: list[DisplayStatus] = []

    def start(self) -> list[DisplayStatus]:
        self.statuses = [self._start(key) for key in self.keys]
        return self.statuses

    def _start(self, key: DisplayKey) -> DisplayStatus:
        settings = agent_settings(
            key.display,
            hall=self.hall,
            central_url=self.central_url,
            host=self.host,
            port=self.ports[key.display.name],
            workdir=self.workdir,
        )
        try:
            self.running.append(AgentThread(DisplayAgent(settings, key.key)).start(timeout=START_SECONDS))
        except AgentStartError as exc:
            logger.warning("demo display %s not started: %s", key.display.name, exc)
            return DisplayStatus(key.display, settings.local_url, problem=str(exc))
        logger.info("demo display %s: %s", key.display.name, settings.local_url)
        return DisplayStatus(key.display, settings.local_url)

    def stop(self) -> None:
        for thread in self.running:
            thread.stop(timeout=STOP_SECONDS)
        self.running = []
