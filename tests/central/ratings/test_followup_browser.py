"""A post user records a callback (回访) through the follow-up page, as a person would: headless
Chromium against the real app under uvicorn — sign in, open the dashboard (the inline SVG chart
renders), follow the overdue link, open the follow-up, fill in the callback form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.app import create_app
from central.core.config import Settings
from tests.browser import chromium, local_page, serve, sign_in
from tests.central.ratings.followup_world import PASSWORD, World, add_november, build_world, followup_of
from tests.conftest import FakeClock

pytestmark = pytest.mark.browser


@pytest.fixture
def world(client, db: Engine, session: Session, registry: dict[str, int]) -> World:
    return build_world(client, db, session, registry)


@pytest.fixture
def ratings(client, session: Session, world: World) -> dict[str, int]:
    return add_november(client, session, world)


@pytest.fixture
def live_url(db: Engine, settings: Settings, clock: FakeClock, ratings: dict[str, int]) -> Iterator[str]:
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_clerk_records_a_callback_through_the_followup_page(
    browser: Browser, live_url: str, session: Session, ratings: dict[str, int], tmp_path: Path
) -> None:
    followup = followup_of(session, ratings["r5"])
    assert followup is not None
    with local_page(browser, live_url) as page:
        sign_in(page, live_url, "clerk", PASSWORD)
        page.wait_for_url("**/console/cases")
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="满意度评价").click()
        page.wait_for_url("**/console/ratings")
        assert page.get_by_role("heading", level=1).inner_text() == "满意度评价"
        chart = page.get_by_role("img", name="每日评价数与满意率")
        assert chart.bounding_box() is not None and chart.bounding_box()["width"] > 300  # type: ignore[index]
        page.screenshot(path=str(tmp_path / "ratings.png"), full_page=True)

        page.get_by_role("link", name="整改超期 3 件").click()  # the clerk's department: r0, r4, r5
        page.wait_for_url("**/console/ratings/followups?overdue=1")
        page.get_by_label("状态").select_option(label="待回访")  # applies at once (console.js)
        page.wait_for_url("**/console/ratings/followups?status=open&overdue=1")
        page.get_by_role("link", name=f"#{followup.id}", exact=True).click()
        page.wait_for_url(f"**/console/ratings/followups/{followup.id}")
        assert page.get_by_text("整改超期", exact=True).first.is_visible()
        assert page.locator("#followup-status").inner_text() == "待回访"

        form = page.get_by_role("form", name="回访")
        form.get_by_label("回访人").fill("王科长")
        form.get_by_label("回访结果").fill("已电话联系群众，解释办理时限并致歉")
        form.get_by_role("button", name="登记回访").click()
        page.wait_for_url(f"**/console/ratings/followups/{followup.id}")
        assert page.locator("#followup-status").inner_text() == "已回访"
        step = page.locator("#step-callback")
        assert "回访人：王科长" in step.inner_text() and "解释办理时限" in step.inner_text()
        assert page.get_by_role("form", name="整改").is_visible()
        page.screenshot(path=str(tmp_path / "followup.png"), full_page=True)

    session.expire_all()
    stored = followup_of(session, ratings["r5"])
    assert stored is not None and stored.status == "called_back" and stored.callback_by == "王科长"
