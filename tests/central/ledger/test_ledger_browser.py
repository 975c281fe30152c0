"""The ledger page as a person uses it (SC-7): headless Chromium against the real app under uvicorn —
sign in, filter by colour, download the Excel export through its link and open it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page

from central.access.roles import Role
from central.app import create_app
from central.ledger.export import HEADERS
from tests.browser import chromium, local_page, serve, sign_in
from tests.central.ledger.conftest import World
from tests.conftest import make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(db, settings, clock, world: World) -> Iterator[str]:
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _shown(page: Page, world: World) -> list[str]:
    ids = page.locator("table.ledger tbody tr").evaluate_all("rows => rows.map(r => Number(r.dataset.id))")
    return world.names(ids)


def test_filter_by_colour_and_download_excel(
    browser: Browser, live_url: str, db, clock, world: World, tmp_path: Path
) -> None:
    password = make_user(db, "inspector1", role=Role.INSPECTOR, now=clock())
    with local_page(browser, live_url) as page:
        sign_in(page, live_url, "inspector1", password)
        page.wait_for_url("**/console/cases")
        page.goto(f"{live_url}/console/ledger")
        assert page.get_by_role("heading", level=1).inner_text() == "监察台帐"
        nav = page.get_by_role("navigation", name="主导航")
        assert nav.get_by_role("link", name="监察台帐").get_attribute("aria-current") == "page"
        assert _shown(page, world) == ["K1", "P3", "P2", "P1", "K2"]

        page.get_by_label("颜色").select_option(label="红色纠错")  # applies at once (console.js)
        page.wait_for_url("**/console/ledger?color=red")
        assert _shown(page, world) == ["K1", "P2"]
        assert page.locator("table.ledger .light-label").all_inner_texts() == ["红色纠错", "红色纠错"]
        assert "共 2 条（已筛选）" in page.locator(".summary").inner_text()
        p2 = page.locator(f'tr[data-id="{world.ids["P2"]}"]')
        assert p2.locator(".badge").all_inner_texts() == ["调查超期"]
        page.screenshot(path=str(tmp_path / "ledger-red.png"), full_page=True)

        with page.expect_download() as info:
            page.get_by_role("link", name="导出 Excel").click()
        download = info.value
        assert download.suggested_filename == "ledger-20261127.xlsx"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)

    book = load_workbook(saved)
    sheet = book["监察台帐"]
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert world.names([row[1].value for row in sheet.iter_rows(min_row=2)]) == ["K1", "P2"]
    assert all(row[2].is_date for row in sheet.iter_rows(min_row=2))
    info_rows = {row[0].value: row[1].value for row in book["导出说明"].iter_rows(min_row=2)}
    assert info_rows["导出人"].startswith("inspector1") and info_rows["筛选：颜色"] == "红色纠错"
