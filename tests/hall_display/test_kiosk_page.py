"""The touchscreen kiosk page (issue 16 item 2) in headless Chromium, against the stand-in for the
display agent (page_server.py): case lookup through the on-screen keys and digit pad (right password,
wrong one, unknown case, throttled, central away), the catalog and the hall's rules, the way home after
the idle time. Screenshots at 1080 × 1920 and 1920 × 1080 are left in the test's tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import local_page, serve
from tests.hall_display.hall_data import PASSWORD, hall_data, open_cases
from tests.hall_display.page_server import PageServer

pytestmark = pytest.mark.browser


@pytest.fixture
def kiosk_hall() -> Iterator[PageServer]:
    server = PageServer(hall_data(open_cases(), kind="kiosk"))
    yield server
    server.closed = True


@pytest.fixture
def kiosk_url(kiosk_hall: PageServer) -> Iterator[str]:
    with serve(kiosk_hall.app) as base:
        yield base


def small_touch_targets(page: Page) -> list[str]:
    """The visible buttons and inputs smaller than 64 × 64 CSS px."""
    small: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('button, input')]
            .filter((node) => node.offsetParent !== null)
            .filter((node) => { const r = node.getBoundingClientRect(); return r.width < 64 || r.height < 64; })
            .map((node) => node.textContent || node.id)"""
    )
    return small


def type_case_no(page: Page, case_no: str) -> None:
    page.get_by_role("button", name="清空").click()
    keys = page.locator("#case-keys")
    for char in case_no:
        keys.get_by_role("button", name=char, exact=True).click()
    expect(page.locator("#case-no")).to_have_text(case_no)
    page.get_by_role("button", name="下一步").click()


def type_password(page: Page, digits: str) -> None:
    pad = page.locator("#password-keys")
    for digit in digits:
        pad.get_by_role("button", name=digit, exact=True).click()
    expect(page.locator("#password-dots .dot.filled")).to_have_count(len(digits))


def look_up(page: Page, case_no: str, password: str) -> None:
    if page.locator("#screen-password").is_visible():
        page.get_by_role("button", name="‹ 返回").click()
    type_case_no(page, case_no)
    type_password(page, password)
    assert password not in page.content()  # shown as dots only
    page.get_by_role("button", name="查询").click()


def test_kiosk_case_lookup_with_the_digit_pad(
    browser: Browser, kiosk_hall: PageServer, kiosk_url: str, tmp_path: Path
) -> None:
    error = "#lookup-error"
    with local_page(browser, kiosk_url) as page:
        page.set_viewport_size({"width": 1080, "height": 1920})
        page.goto(f"{kiosk_url}/kiosk")
        expect(page.locator("#hall-name")).to_have_text("武侯区政务服务中心")
        assert small_touch_targets(page) == []
        page.screenshot(path=str(tmp_path / "kiosk-1080x1920-home.png"))
        page.get_by_role("button", name="办件查询").click()
        assert small_touch_targets(page) == []

        look_up(page, "SC-2026-000001", "111111")  # a wrong password
        expect(page.locator(error)).to_have_text("办件编号或查询密码不正确")
        expect(page.locator("#password-dots .dot.filled")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "kiosk-1080x1920-wrong.png"))
        look_up(page, "SC-2026-999999", PASSWORD)  # an unknown case: the same answer
        expect(page.locator(error)).to_have_text("办件编号或查询密码不正确")

        kiosk_hall.data.lookup_mode = "throttled"
        look_up(page, "SC-2026-000001", PASSWORD)
        expect(page.locator(error)).to_have_text("尝试次数过多，请 10 分钟后再试")
        kiosk_hall.data.lookup_mode = "central_down"
        type_password(page, PASSWORD)
        page.get_by_role("button", name="查询").click()
        expect(page.locator(error)).to_have_text("暂时无法连接中心，请稍后再试")

        kiosk_hall.data.lookup_mode = "answer"
        look_up(page, "SC-2026-000001", PASSWORD)
        timeline = page.locator("#timeline")
        expect(timeline).to_be_visible()
        facts = dict(
            zip(
                timeline.locator("dt").all_inner_texts(),
                timeline.locator("dd").all_inner_texts(),
                strict=True,
            )
        )
        assert facts == {
            "办件编号": "SC-2026-000001",
            "事项": "营业执照核发",
            "部门": "市场监督管理局",
            "申请人": "李*",
            "当前环节": "承办中",
            "状态": "绿灯",
            "受理日期": "2026-03-04",
            "承诺办结日": "2026-03-07（5 个工作日）",
            "法定办结日": "2026-04-04（30 个工作日）",
        }
        steps = timeline.locator(".step")
        assert steps.nth(0).inner_text().split("\n") == ["2026-03-03 09:41", "受理", "3号窗口 · 王芳(A1023)"]
        assert steps.nth(1).inner_text().split("\n") == ["2026-03-04 09:41", "承办", "李强(A1088)"]
        assert small_touch_targets(page) == []
        page.screenshot(path=str(tmp_path / "kiosk-1080x1920-timeline.png"), full_page=True)

        sent = [(lookup.case_no, lookup.password) for lookup in kiosk_hall.data.lookups]
        assert sent == [
            ("SC-2026-000001", "111111"),
            ("SC-2026-999999", PASSWORD),
            ("SC-2026-000001", PASSWORD),
            ("SC-2026-000001", PASSWORD),
            ("SC-2026-000001", PASSWORD),
        ]
        page.get_by_role("button", name="查询完毕，返回首页").click()
        expect(page.locator("#screen-home")).to_be_visible()

        page.set_viewport_size({"width": 1920, "height": 1080})  # a landscape kiosk
        assert small_touch_targets(page) == []
        page.screenshot(path=str(tmp_path / "kiosk-1920x1080-home.png"))
        page.get_by_role("button", name="办件查询").click()
        type_case_no(page, "SC-2026-000001")
        type_password(page, "12")
        assert small_touch_targets(page) == []
        page.screenshot(path=str(tmp_path / "kiosk-1920x1080-password.png"))


def test_kiosk_catalog_search_item_detail_and_hall_info(
    browser: Browser, kiosk_hall: PageServer, kiosk_url: str, tmp_path: Path
) -> None:
    kiosk_hall.data.config["hall_name"] = None  # the agent has not heard it from central yet
    with local_page(browser, kiosk_url) as page:
        page.set_viewport_size({"width": 1080, "height": 1920})
        page.goto(f"{kiosk_url}/kiosk")
        expect(page.locator("#hall-name")).to_have_text("武侯区政务服务中心")  # from the hall info
        page.get_by_role("button", name="办事指南").click()
        listed = page.locator("#catalog-list .item-name")
        expect(listed).to_have_count(3)
        assert small_touch_targets(page) == []
        page.screenshot(path=str(tmp_path / "kiosk-1080x1920-catalog.png"))

        page.locator("#char-keys").get_by_role("button", name="登", exact=True).click()  # a common character
        expect(listed).to_have_text(["不动产登记"])
        page.locator("#char-keys").get_by_role("button", name="退格").click()
        expect(listed).to_have_count(3)
        page.locator("#departments").get_by_role("button", name="市场监督管理局").click()
        expect(listed).to_have_text(["营业执照核发", "食品经营许可"])
        page.locator("#search").fill("食品")  # a hardware or system keyboard works too
        expect(listed).to_have_text(["食品经营许可"])
        page.locator("#search").fill("不动产")  # not in the department chosen
        expect(page.locator("#catalog-count")).to_have_text("没有找到相关事项")
        page.get_by_role("button", name="清空").click()
        expect(listed).to_have_count(2)

        catalog = page.locator("#catalog-list")
        catalog.get_by_role("button", name="营业执照核发").click()
        item = page.locator("#item")
        expect(item.locator("h2")).to_have_text("营业执照核发")
        facts = dict(
            zip(item.locator("dt").all_inner_texts(), item.locator("dd").all_inner_texts(), strict=True)
        )
        assert facts == {
            "实施部门": "市场监督管理局",
            "事项编码": "510107-002",
            "法定时限": "15 个工作日",
            "承诺时限": "3 个工作日",
            "收费": "不收费",
        }
        assert item.locator(".materials li").all_inner_texts() == ["登记申请书", "公司章程"]
        assert item.locator("p.text").all_inner_texts() == ["—", "《市场主体登记管理条例》"]
        page.get_by_role("button", name="‹ 返回").click()
        expect(listed).to_have_text(["营业执照核发", "食品经营许可"])  # the department still chosen
        page.locator("#departments").get_by_role("button", name="全部部门").click()
        catalog.get_by_role("button", name="不动产登记").click()
        expect(item.locator("dd").nth(4)).to_have_text("80.00 元")
        assert item.locator(".materials li").count() == 3
        page.screenshot(path=str(tmp_path / "kiosk-1080x1920-item.png"), full_page=True)

        page.get_by_role("button", name="首页").click()
        page.get_by_role("button", name="大厅须知与投诉").click()
        info = page.locator("#info")
        expect(info.locator("h3")).to_have_text(["办事须知", "投诉方式"])
        assert info.locator(".address").inner_text() == "地址：武侯区大厅路 1 号"
        assert (
            info.locator(".info-section").nth(1).locator("p").inner_text()
            == "投诉电话 12345，或到一楼监察室当面投诉。"
        )
        page.screenshot(path=str(tmp_path / "kiosk-1080x1920-info.png"))


def test_kiosk_goes_home_when_idle_and_forgets_what_was_typed(browser: Browser, tmp_path: Path) -> None:
    server = PageServer(hall_data(open_cases(), kind="kiosk", idle_seconds=2))
    with serve(server.app) as base, local_page(browser, base) as page:
        page.set_viewport_size({"width": 1080, "height": 1920})
        page.goto(f"{base}/kiosk")
        page.get_by_role("button", name="办件查询").click()
        assert small_touch_targets(page) == []
        page.screenshot(path=str(tmp_path / "kiosk-1080x1920-case-no.png"))
        type_case_no(page, "SC-2026-000001")
        type_password(page, "246")
        home = page.locator("#screen-home")
        expect(home).to_be_visible()  # after 2 s without a touch
        state = page.evaluate("() => window.hallwatchDisplay")
        assert state == {"screen": "home", "caseNo": "", "passwordDigits": 0, "lookups": 0}
        page.get_by_role("button", name="办件查询").click()
        expect(page.locator("#case-no")).to_have_text("")

        page.get_by_role("button", name="首页").click()
        page.get_by_role("button", name="办事指南").click()
        page.locator("#search").fill("食品")
        expect(home).to_be_visible()
        page.get_by_role("button", name="办事指南").click()
        expect(page.locator("#search")).to_have_value("")
        expect(page.locator("#catalog-list .item-name")).to_have_count(3)
