"""The monthly report's page as a person uses it: headless Chromium against the real app under uvicorn —
sign in, open 电子监察月报 from the navigation, read the figures (the API's), pick another scope,
download the PDF with the button. A screenshot is left in test-artifacts/reports/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from central.app import create_app
from tests.browser import chromium, local_page, serve, sign_in
from tests.central.reports.conftest import ARTIFACTS
from tests.central.reports.world import MONTH, World
from tests.conftest import ROOT_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def live_url(db, settings, clock, world: World) -> Iterator[str]:
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        yield url


def test_the_page_shows_the_apis_figures_and_downloads_the_pdf(
    browser: Browser, live_url: str, client: TestClient, world: World, tmp_path: Path
) -> None:
    data = client.get("/api/v1/reports/monthly", params={"month": MONTH, "scope": "*"}).json()
    with local_page(browser, live_url) as page:
        sign_in(page, live_url, "root", ROOT_PASSWORD)
        page.wait_for_url("**/console/cases")
        nav = page.get_by_role("navigation", name="主导航")
        nav.get_by_role("link", name="电子监察月报").click()
        page.wait_for_url("**/console/reports/monthly")
        assert page.get_by_role("heading", level=1).inner_text() == "电子监察月报"
        assert nav.get_by_role("link", name="电子监察月报").get_attribute("aria-current") == "page"
        assert "全部辖区 · 2026年11月" in page.locator(".as-of").inner_text()  # last month by default
        shown = dict(
            page.locator("[data-figure]").evaluate_all(
                "els => els.map(e => [e.dataset.figure, e.textContent.trim()])"
            )
        )
        v = data["volume"]["total"]
        assert shown["volume.received"] == str(v["received"]) and shown["volume.open_at_end"] == str(
            v["open_at_end"]
        )
        assert shown["lights.red"] == str(data["lights"]["total"]["red"])
        assert shown["signals.median_hours_to_correction"] == "24.0 小时"
        assert shown["ratings.satisfaction_rate"] == "66.7%"
        codes = page.locator('[data-table="scores-departments"] tbody tr[data-code]').evaluate_all(
            "rs => rs.map(r => r.dataset.code)"
        )
        assert codes == [r["code"] for r in data["scores"]["departments"]["rows"]]
        assert (
            page.locator("#chart-volume svg").count() == 1 and page.locator("#chart-ratings svg").count() == 1
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "monthly-report-page.png"), full_page=True)

        page.get_by_label("辖区", exact=True).select_option("510104")  # applies at once (console.js)
        page.wait_for_url("**/console/reports/monthly?month=2026-11&scope=510104")
        assert "锦江区 · 2026年11月" in page.locator(".as-of").inner_text()
        assert page.locator('[data-figure="volume.received"]').inner_text() == "2"

        with page.expect_download() as info:
            page.get_by_role("button", name="下载 PDF").click()
        download = info.value
        assert download.suggested_filename == "monthly-report-2026-11-510104.pdf"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")


def test_a_bad_month_gets_a_chinese_page(browser: Browser, live_url: str, world: World) -> None:
    with local_page(browser, live_url) as page:
        sign_in(page, live_url, "root", ROOT_PASSWORD)
        page.wait_for_url("**/console/cases")
        answer = page.goto(f"{live_url}/console/reports/monthly?month=2026-13")
        assert answer is not None and answer.status == 422
        assert "月份格式应为 2026-11" in page.locator("main").inner_text()
        answer = page.goto(f"{live_url}/console/reports/monthly?month={MONTH}&scope=nowhere")
        assert answer is not None and answer.status == 404
