"""The demo hall's screens (issue 16 item 4), built from the demo's own parts as `hallwatch demo`
assembles them: the seeded province, the planning step (display devices and keys, a case with a known
query password, the feed filled), the simulated hall against a real central. Its three display agents
serve their pages; the board in headless Chromium shows the hall's seeded cases and then a case the
simulated citizens push; the kiosk case the demo prints looks up through the kiosk's agent. A taken
port leaves its screen out and the demo goes on. No timing assertions."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.cases.lights import OPEN_VALUES
from central.cases.models import Case
from central.core.config import Settings
from central.core.db import make_session_factory
from central.demo.accounts import DEMO_HALL, DEMO_PASSWORD, create_demo_users
from central.demo.displays import (
    DEMO_DISPLAY_PORTS,
    DEMO_DISPLAYS,
    DisplayKey,
    DisplayStatus,
    HallDisplays,
    agent_settings,
)
from central.demo.hall_sim import HallPlan, SimulatedHall, plan_hall
from central.demo.seed import seed_demo
from central.registry.models import Device, Hall
from hall_display.config import parse_all_displays
from tests.browser import chromium, local_page, serve
from tests.hall_display.harness import free_port

WAIT_S = 180.0  # the most anything here waits for what should come (a loaded machine is slow)
CONFIG_FILE = Path(__file__).resolve().parents[3] / "camera_configs" / "demo-hall.yaml"
KIOSK_LINE = re.compile(r"办件查询演示：办件编号 (\S+)，查询密码 (\d{6})")
PUSHED = "() => Object.keys(window.hallwatchDisplay?.cases || {}).some((n) => n.startsWith('DEMO-'))"
SHOWS_ALL = "(wanted) => wanted.every((n) => n in (window.hallwatchDisplay?.cases || {}))"


def demo_start_up(session: Session, settings: Settings) -> HallPlan:
    """What `hallwatch demo` does before it serves (fewer cases)."""
    now = datetime.now(UTC)
    seed_demo(session, now=now, default_profile_key=settings.rule_profile, cases=60)
    create_demo_users(session, now=now)
    session.commit()
    plan = plan_hall(
        session, hall_code=DEMO_HALL, windows=4, now=now, default_profile_key=settings.rule_profile
    )
    session.close()
    return plan


def open_cases(db: Engine) -> list[str]:
    """The demo hall's open cases, as seeded: all of them on its board."""
    with make_session_factory(db)() as session:
        hall = session.scalars(select(Hall).where(Hall.code == DEMO_HALL)).one()
        query = select(Case.case_no).where(Case.hall_id == hall.id, Case.status.in_(OPEN_VALUES))
        return sorted(session.scalars(query))


def base_of(status: DisplayStatus) -> str:
    return status.url.rsplit("/", 1)[0]


@contextmanager
def opened(browser: Browser, status: DisplayStatus) -> Iterator[Page]:
    with local_page(browser, base_of(status)) as tab:
        tab.goto(status.url)
        yield tab


def test_the_demo_displays_are_the_demo_halls_config_file() -> None:
    """The demo runs the displays camera_configs/demo-hall.yaml names, on its ports, as it has them."""
    in_file = parse_all_displays(CONFIG_FILE.read_text(encoding="utf-8"), origin=str(CONFIG_FILE))
    demo = [
        agent_settings(d, hall=DEMO_HALL, central_url="http://127.0.0.1:8000", host="127.0.0.1", port=d.port, workdir=Path("var"))
        for d in DEMO_DISPLAYS
    ]  # fmt: skip
    ours = {"cache_dir", "reconnect_max_seconds", "listen_host"}  # the demo's own: under its workdir
    assert [s.hall for s in in_file] == [s.hall for s in demo] == [DEMO_HALL] * 3
    assert [s.display.model_dump(exclude=ours) for s in in_file] == [
        s.display.model_dump(exclude=ours) for s in demo
    ]
    assert dict(DEMO_DISPLAY_PORTS) == {"TV-HALL": 8090, "LED-HALL": 8091, "KIOSK-HALL": 8092}
    assert [s.page_path for s in demo] == ["/board", "/marquee", "/kiosk"]


def test_a_taken_port_leaves_its_screen_out_and_the_others_serve(tmp_path: Path) -> None:
    keys = [DisplayKey(d, f"DISPLAY-{d.name}", "hwk_unused_key") for d in DEMO_DISPLAYS]
    ports = {d.name: free_port() for d in DEMO_DISPLAYS}
    down = f"http://127.0.0.1:{free_port()}"  # central is not needed to serve the pages
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports["LED-HALL"]))
        taken.listen()
        displays = HallDisplays(
            keys, hall=DEMO_HALL, central_url=down, host="127.0.0.1", ports=ports, workdir=tmp_path
        )
        try:
            statuses = {s.display.name: s for s in displays.start()}
            assert statuses["LED-HALL"].problem is not None
            assert str(ports["LED-HALL"]) in statuses["LED-HALL"].problem
            line = statuses["LED-HALL"].line()
            assert line.startswith("  大厅屏幕  LED 滚动屏（384×64） 未启动：") and "演示继续" in line
            for name in ("TV-HALL", "KIOSK-HALL"):
                assert statuses[name].problem is None
                assert httpx.get(statuses[name].url).status_code == 200
            assert (
                statuses["TV-HALL"].line()
                == f"  大厅屏幕  进度看板 http://127.0.0.1:{ports['TV-HALL']}/board"
            )
            assert len(displays.running) == 2
        finally:
            displays.stop()


def test_a_simulated_hall_without_ports_runs_no_screens(tmp_path: Path) -> None:
    keys = tuple(DisplayKey(d, f"DISPLAY-{d.name}", "hwk_unused_key") for d in DEMO_DISPLAYS)
    plan = HallPlan(hall=DEMO_HALL, edge_key="hwk_unused", windows=[], displays=keys)
    hall = SimulatedHall(plan, base_url="http://127.0.0.1:1", username="-", password="-", workdir=tmp_path)
    assert hall.displays.keys == []


def test_planning_registers_the_displays_and_a_kiosk_case(
    db: Engine, session: Session, settings: Settings
) -> None:
    plan = demo_start_up(session, settings)
    assert [k.device_code for k in plan.displays] == [
        "DISPLAY-TV-HALL",
        "DISPLAY-LED-HALL",
        "DISPLAY-KIOSK-HALL",
    ]
    assert all(k.key.startswith("hwk_") for k in plan.displays)
    with make_session_factory(db)() as check:
        kinds = check.scalars(select(Device.kind).where(Device.code.like("DISPLAY-%"))).all()
    assert kinds == ["display"] * 3
    assert plan.kiosk_case is not None and plan.kiosk_case.case_no in open_cases(db)
    assert KIOSK_LINE.fullmatch(plan.kiosk_case.line())


@pytest.mark.browser
def test_the_demo_halls_screens_follow_central_as_citizens_are_served(
    db: Engine, session: Session, settings: Settings, tmp_path: Path
) -> None:
    plan = demo_start_up(session, settings)
    assert plan.kiosk_case is not None
    seeded = open_cases(db)
    ports = {d.name: free_port() for d in DEMO_DISPLAYS}
    app = create_app(settings, engine=db)  # served without its jobs: the planning step filled the feed
    try:
        with serve(app) as url:
            hall = SimulatedHall(
                plan,
                base_url=url,
                username="admin",
                password=DEMO_PASSWORD,
                every_seconds=1.0,
                workdir=tmp_path,
                recording=False,
                display_ports=ports,
            ).start()
            try:
                screens = {s.display.name: s for s in hall.displays.statuses}
                assert [s.problem for s in screens.values()] == [None, None, None]
                for status in screens.values():
                    page = httpx.get(status.url)
                    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
                with chromium() as browser:
                    with opened(browser, screens["TV-HALL"]) as board:
                        board.wait_for_function(SHOWS_ALL, arg=seeded, timeout=WAIT_S * 1000)
                        assert board.locator("#case-rows tr").count() > 0
                        board.wait_for_function(PUSHED, timeout=WAIT_S * 1000)  # a citizen served
                    with opened(browser, screens["LED-HALL"]) as marquee:
                        marquee.wait_for_function(PUSHED, timeout=WAIT_S * 1000)
                number, password = KIOSK_LINE.fullmatch(plan.kiosk_case.line()).groups()  # type: ignore[union-attr]
                kiosk = base_of(screens["KIOSK-HALL"])
                found = httpx.post(
                    f"{kiosk}/api/v1/public/cases/lookup",
                    json={"case_no": number, "password": password},
                    timeout=30,
                )
                assert found.status_code == 200, found.text
                assert found.json()["case"]["case_no"] == number and found.json()["steps"]
                agents = list(hall.displays.running)
            finally:
                hall.stop()
            assert not any(agent.alive for agent in agents)  # stopped with the hall
    finally:
        app.state.notifier.stop()
