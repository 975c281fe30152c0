"""Hall displays end to end (issue 16): the real central under uvicorn, the real display agent with its
device key, the real pages in headless Chromium. Cases go in through central's case push on another
app instance (on PostgreSQL the change reaches the served instance by LISTEN/NOTIFY).

- the marquee shows a new case once its event is stored (its latency is bench/display_pages.py's);
- the kiosk: the right password shows the timeline; a wrong one and an unknown case number answer the
  same, through the on-screen keys;
- central killed: the board keeps its data and says how old it is; the agent restarted with central
  still down shows its copy from disk; central back: everything numbered meanwhile arrives, once.

A screenshot of each page at its screen size is left in test-artifacts/displays/ (or
$HALLWATCH_TEST_ARTIFACTS/displays)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from central.app import create_app
from central.core.config import Settings
from tests.browser import local_page, serve
from tests.central.cases.helpers import HALL, ev
from tests.central.public.helpers import received
from tests.conftest import FakeClock
from tests.hall_display.harness import display_settings, free_port, running_agent, wait_for
from tests.hall_display.test_kiosk_page import look_up

pytestmark = pytest.mark.browser
ARTIFACTS = (
    Path(os.environ.get("HALLWATCH_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
    / "displays"
)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


@contextmanager
def central_on(db: Engine, settings: Settings, clock: FakeClock, port: int) -> Iterator[str]:
    with serve(create_app(settings, engine=db, clock=clock), port=port) as url:
        yield url


def push(writer: TestClient, *events: dict[str, Any]) -> list[dict[str, Any]]:
    response = writer.post("/api/v1/cases/events", json=list(events))
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def page_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate(
        "() => { const d = window.hallwatchDisplay || {}; return {last: d.lastEventId, cases: Object.keys(d.cases || {}),"
        " central: d.status && d.status.central}; }"
    )
    return state


def test_the_marquee_shows_a_new_case_from_central_through_the_agent(
    browser: Browser,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    display_key: str,
    tmp_path: Path,
) -> None:
    push(
        client,
        received("e0", "SC-0001", "2026-11-27T09:00:00+08:00"),
        ev("e0a", "SC-0001", "accepted", "2026-11-27T09:01:00+08:00"),
    )
    with central_on(db, settings, clock, free_port()) as central:
        config = display_settings(tmp_path, central, kind="led", name="LED-E2E", hall=HALL)
        with running_agent(config, key=display_key) as agent, local_page(browser, agent.url) as page:
            for width, height in ((384, 64), (768, 96)):
                page.set_viewport_size({"width": width, "height": height})
                page.goto(f"{agent.url}/marquee?w={width}&h={height}")
                expect(page.locator('#entries [data-case-no="SC-0001"]')).to_have_count(1)
                screenshot(page, f"marquee-{width}x{height}.png")
            push(client, received("e1", "SC-0002", "2026-11-27T09:30:00+08:00"))
            expect(page.locator('#entries [data-case-no="SC-0002"]')).to_have_count(1)
            assert "张三明" not in page.content()


def test_the_kiosk_looks_up_a_case_by_its_password_and_tells_nothing_otherwise(
    browser: Browser,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    display_key: str,
    tmp_path: Path,
) -> None:
    password = push(
        client,
        received("k1", "SC-0100", "2026-11-27T09:00:00+08:00"),
        ev("k2", "SC-0100", "accepted", "2026-11-27T09:05:00+08:00", window_code="W01", staff_code="S001"),
    )[0]["query_password"]
    wrong = f"{(int(password) + 1) % 1_000_000:06d}"
    with central_on(db, settings, clock, free_port()) as central:
        config = display_settings(tmp_path, central, kind="kiosk", name="KIOSK-E2E", hall=HALL)
        with running_agent(config, key=display_key) as agent, local_page(browser, agent.url) as page:
            page.set_viewport_size({"width": 1080, "height": 1920})
            page.goto(f"{agent.url}/kiosk")
            screenshot(page, "kiosk-1080x1920-home.png")
            page.get_by_role("button", name="办件查询").click()
            error = page.locator("#lookup-error")
            for case_no in ("SC-0100", "SC-0999"):  # a wrong password, then an unknown number
                look_up(page, case_no, wrong)  # going to the password screen hides the last error
                expect(error).to_be_visible()
                expect(error).to_have_text("办件编号或查询密码不正确")
            # And byte for byte through the agent: status, body and headers that matter.
            answers = [
                httpx.post(
                    f"{agent.url}/api/v1/public/cases/lookup",
                    json={"case_no": n, "password": wrong},
                    timeout=10,
                )
                for n in ("SC-0100", "SC-0999")
            ]
            wrong_password, unknown_case = ((a.status_code, a.content) for a in answers)
            assert wrong_password == unknown_case
            assert answers[0].status_code == 404
            look_up(page, "SC-0100", password)
            timeline = page.locator("#screen-timeline")
            expect(timeline).to_be_visible()
            expect(timeline).to_contain_text("张*明")
            expect(timeline).to_contain_text("受理")
            expect(timeline).to_contain_text("张三(S001)")
            screenshot(page, "kiosk-1080x1920-timeline.png")
            assert "张三明" not in page.content()


def test_the_board_outlives_central_and_its_own_restart_and_catches_up_missing_nothing(
    browser: Browser,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    display_key: str,
    tmp_path: Path,
) -> None:
    port = free_port()
    push(client, received("b1", "SC-0200", "2026-11-27T09:00:00+08:00"))
    with central_on(db, settings, clock, port) as central:
        config = display_settings(tmp_path, central, kind="tv", name="TV-E2E", hall=HALL)
        agent_cm = running_agent(config, key=display_key)
        agent = agent_cm.__enter__()
        page_cm = local_page(browser, agent.url)
        page = page_cm.__enter__()
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{agent.url}/board")
        expect(page.locator("#case-rows")).to_contain_text("SC-0200")
        wait_for(lambda: page_state(page)["central"] == "connected", "the board connected")
        screenshot(page, "board-1920x1080.png")
    try:
        # Central is gone: the board keeps its cases and says since when.
        expect(page.locator("#conn")).to_be_visible()
        expect(page.locator("#updated")).to_contain_text("数据更新于")
        expect(page.locator("#case-rows")).to_contain_text("SC-0200")
        screenshot(page, "board-1920x1080-central-down.png")
    finally:
        page_cm.__exit__(None, None, None)
        agent_cm.__exit__(None, None, None)
    # The hall goes on (another instance takes the events) while this central and the agent are down.
    push(client, received("b2", "SC-0201", "2026-11-27T09:10:00+08:00"))
    with running_agent(config, key=display_key) as agent, local_page(browser, agent.url) as page:
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{agent.url}/board")
        expect(page.locator("#case-rows")).to_contain_text("SC-0200")  # from the copy on disk
        expect(page.locator("#updated")).to_contain_text("数据更新于")
        push(client, ev("b3", "SC-0200", "accepted", "2026-11-27T09:20:00+08:00"))
        with central_on(db, settings, clock, port):
            expect(page.locator("#case-rows")).to_contain_text("SC-0201")
            wait_for(lambda: page_state(page)["central"] == "connected", "the board reconnected")
            truth = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/public/halls/{HALL}/progress", timeout=10
            ).json()
            wait_for(lambda: page_state(page)["last"] == truth["last_event_id"], "the board caught up")
            assert sorted(page_state(page)["cases"]) == sorted(c["case_no"] for c in truth["cases"])
            expect(page.locator("#case-rows")).to_contain_text("已受理")
