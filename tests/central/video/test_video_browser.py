"""An inspector confirms an absence (离岗) on the hall's video page, as a person would: headless
Chromium against the real app under uvicorn — sign in, follow 视频监察 to the hall, see the window
states and today's timeline (an inline SVG, drawn server-side), confirm the absence with a note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.core.config import Settings
from central.signals.models import Signal
from tests.browser import chromium, local_page, serve, sign_in
from tests.central.video.helpers import (
    HALL,
    PASSWORD,
    World,
    absence,
    camera_health,
    edge,
    presence,
    shanghai,
    upload,
    world,
)
from tests.conftest import FakeClock

pytestmark = pytest.mark.browser
__all__ = ["edge", "world"]


@pytest.fixture
def reported(client: TestClient, world: World, clock: FakeClock) -> None:
    body = upload(
        client,
        world.headers["EDGE-P"],
        camera_health(shanghai(clock, 9, 59)),
        presence(shanghai(clock, 9), shanghai(clock, 9, 20)),
        absence(shanghai(clock, 9, 20)),
        absence(shanghai(clock, 9, 20), shanghai(clock, 9, 45)),
        presence(shanghai(clock, 9, 45), shanghai(clock, 9, 58)),
    )
    assert body["rejected"] == 0, body


@pytest.fixture
def live_url(db: Engine, settings: Settings, clock: FakeClock, reported: None) -> Iterator[str]:
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_inspector_sees_the_timeline_and_confirms_an_absence(
    browser: Browser, live_url: str, session: Session, tmp_path: Path
) -> None:
    with local_page(browser, live_url) as page:
        sign_in(page, live_url, "inspector", PASSWORD)
        page.wait_for_url("**/console/cases")
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="视频监察").click()
        page.wait_for_url("**/console/video")
        page.get_by_role("link", name="四川省政务服务中心").click()
        page.wait_for_url(f"**/console/video/halls/{HALL}")
        assert page.get_by_role("heading", level=1).inner_text() == "四川省政务服务中心"
        assert page.locator("tr[data-window='W01'] .window-state").inner_text() == "在岗"

        timeline = page.get_by_role("img", name="四川省政务服务中心 2026-11-27 窗口在岗时间轴")
        box = timeline.bounding_box()
        assert box is not None and box["width"] > 600
        bar = page.locator("svg g[data-window='W01']")
        assert bar.locator("rect[data-kind='presence']").count() == 2
        absent = bar.locator("rect[data-kind='absence']")
        assert absent.count() == 1 and absent.bounding_box()["width"] > 10  # type: ignore[index]
        page.screenshot(path=str(tmp_path / "video-hall.png"), full_page=True)

        card = page.get_by_role("article", name="离岗事件 #1")
        assert card.locator(".absence-status").inner_text() == "待核实"
        form = page.get_by_role("form", name="确认离岗 #1")
        form.get_by_label("核实说明").fill("回放确认：无人在岗")
        form.get_by_role("button", name="确认离岗").click()
        page.wait_for_url(f"**/console/video/halls/{HALL}?day=2026-11-27#absence-1")
        assert (
            page.get_by_role("article", name="离岗事件 #1").locator(".absence-status").inner_text()
            == "已确认"
        )
        assert page.get_by_role("form", name="确认离岗 #1").count() == 0
        page.screenshot(path=str(tmp_path / "video-confirmed.png"), full_page=True)
    signal = session.scalars(select(Signal)).one()
    assert (signal.origin, signal.reason_code, signal.color) == ("video", "staff_absent", "yellow")
