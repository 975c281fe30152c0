"""The hall display pages (issue 16 item 2) in headless Chromium, against the small stand-in for the
display agent (page_server.py) that serves them with fixture data and an event stream the test
pushes into. Screenshots at each screen's size are left in the test's tmp_path, like the other page
tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from common.public_feed import AgentStatus, CaseRemoved, Notice, NoticeList, PublicCase
from tests.browser import chromium, local_page, serve
from tests.hall_display.hall_data import NOW, PASSWORD, TODAY, case, hall_data, summary
from tests.hall_display.page_server import PageServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def open_cases() -> list[PublicCase]:
    """Six open cases (one red, one yellow) and one closed today."""
    cases = [case(n) for n in range(1, 5)]
    cases.append(case(5, light="yellow", due=TODAY + timedelta(days=1)))
    cases.append(case(6, light="red", due=TODAY - timedelta(days=1)))
    cases.append(case(7, closed_on=TODAY))
    return cases


@pytest.fixture
def hall() -> Iterator[PageServer]:
    server = PageServer(hall_data(open_cases()))
    yield server
    server.closed = True


@pytest.fixture
def url(hall: PageServer) -> Iterator[str]:
    with serve(hall.app) as base:
        yield base
        hall.closed = True  # ends the open event streams, so the server can stop


def applied(page: Page, event_id: int) -> None:
    page.wait_for_function(
        f"() => window.hallwatchDisplay && window.hallwatchDisplay.lastEventId >= {event_id}"
    )


def test_marquee_scrolls_urgent_cases_first_and_takes_new_ones_at_once(
    browser: Browser, hall: PageServer, url: str, tmp_path: Path
) -> None:
    with local_page(browser, url) as page:
        page.set_viewport_size({"width": 384, "height": 64})
        page.goto(f"{url}/marquee")
        stage = page.locator("#stage")
        expect(page.locator("#ribbon .entry").first).to_be_attached()
        assert stage.bounding_box() == {"x": 0, "y": 0, "width": 384, "height": 64}
        listed = page.locator("#entries li")
        expect(listed.first).to_have_attribute("data-case-no", "SC-2026-000006")  # red first
        expect(listed.nth(1)).to_have_attribute("data-case-no", "SC-2026-000005")  # then yellow
        assert "⚠红灯" in listed.first.inner_text()
        assert page.locator('#entries [data-case-no="SC-2026-000007"]').count() == 0  # closed today
        assert "【公告】本大厅实行延时服务" in page.locator("#entries").inner_text()

        start = page.locator("#ribbon").evaluate("r => r.style.transform")
        page.wait_for_function(f"() => document.getElementById('ribbon').style.transform !== '{start}'")

        red = case(999, light="red", due=TODAY, stage="审核中")
        hall.push("case", red, event_id=11)
        entry = page.locator('#ribbon [data-case-no="SC-2026-000999"]')
        expect(entry).to_have_attribute("data-light", "red")
        expect(entry).to_contain_text("⚠红灯SC-2026-000999 · 社会保障卡补办 · 审核中 · 承诺办结日 03-05")
        expect(listed.nth(1)).to_have_attribute("data-case-no", "SC-2026-000999")  # after the older red

        # An event the page already has (its id is not above the last applied) is ignored.
        hall.push("case", case(998, light="red"), event_id=11)
        hall.push("case", case(2, light="yellow"), event_id=12)  # turns yellow: straight in
        applied(page, 12)
        assert page.locator('[data-case-no="SC-2026-000998"]').count() == 0
        expect(page.locator('#ribbon [data-case-no="SC-2026-000002"][data-light="yellow"]')).to_be_attached()

        hall.push("case_removed", CaseRemoved(case_no="SC-2026-000001"), event_id=13)
        expect(page.locator('#entries [data-case-no="SC-2026-000001"]')).to_have_count(0)

        page.screenshot(path=str(tmp_path / "marquee-384x64.png"))
        hall.push_status(AgentStatus(central="unreachable", updated_at=NOW, last_event_id=13))
        expect(page.locator("#entries li").first).to_have_text("中心连接中断 · 数据更新于 09:41")
        expect(page.locator('#ribbon [data-key="s"]')).to_be_attached()

        page.set_viewport_size({"width": 768, "height": 96})
        page.goto(f"{url}/marquee?w=768&h=96")
        expect(page.locator("#ribbon .entry").first).to_be_attached()
        assert stage.bounding_box() == {"x": 0, "y": 0, "width": 768, "height": 96}
        assert page.locator("#ribbon").evaluate("r => r.style.fontSize") == "72px"
        page.wait_for_function("() => document.getElementById('ribbon').offsetWidth > 768")
        page.screenshot(path=str(tmp_path / "marquee-768x96.png"))


def test_board_shows_counts_satisfaction_pages_and_the_data_age(
    browser: Browser, hall: PageServer, url: str, tmp_path: Path
) -> None:
    hall.data.snapshot = hall.data.snapshot.model_copy(
        update={"cases": [*open_cases(), *(case(n) for n in range(10, 40))]}
    )
    with local_page(browser, url) as page:
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{url}/board?page_seconds=1")
        expect(page.locator("#hall-name")).to_have_text("武侯区政务服务中心")
        expect(page.locator("#stat-received")).to_have_text("37")
        assert [page.locator(f"#stat-{name}").inner_text() for name in ("completed", "overdue", "open")] == [
            "21",
            "2",
            "58",
        ]
        expect(page.locator("#stat-satisfaction")).to_have_text("93.8%")
        expect(page.locator("#stat-ratings")).to_have_text("16 条评价")
        expect(page.locator("#clock")).to_have_text(re.compile(r"^\d{2}:\d{2}:\d{2}$"))

        rows = page.locator("#case-rows tr")
        expect(page.locator("#pager")).to_have_text(re.compile(r"^第 1/\d+ 页 · 共 37 件$"))
        pages = int(re.findall(r"/(\d+)", page.locator("#pager").inner_text())[0])
        per_page = rows.count()
        assert pages == -(-37 // per_page) and pages > 1
        first = rows.first
        expect(first).to_have_attribute("data-case-no", "SC-2026-000006")  # red first, then yellow
        assert first.locator(".light").inner_text() == "红灯"
        assert rows.nth(1).get_attribute("data-case-no") == "SC-2026-000005"
        assert rows.nth(1).locator(".light").inner_text() == "黄灯"
        assert first.locator("td").all_inner_texts()[1:] == [
            "SC-2026-000006",
            "营业执照核发",
            "市场监督管理局",
            "7号窗口",
            "李*",
            "审核中",
            "02-27",
            "03-04",
        ]
        expect(page.locator("#conn")).to_be_hidden()
        page.screenshot(path=str(tmp_path / "board-1920x1080.png"))
        expect(page.locator("#pager")).to_have_text(re.compile(rf"^第 2/{pages} 页"))  # turns by itself
        expect(page.locator("#pager")).to_have_text(re.compile(rf"^第 {pages}/{pages} 页"))
        expect(rows.last).to_have_attribute("data-case-no", "SC-2026-000007")  # closed today: last
        assert rows.last.locator("td").nth(6).inner_text() == "已办结"

        hall.push("summary", summary(ratings=0, satisfied=0, satisfaction=None, received=38), event_id=11)
        expect(page.locator("#stat-satisfaction")).to_have_text("暂无评价")
        expect(page.locator("#stat-received")).to_have_text("38")
        hall.push("notices", NoticeList(notices=[Notice(id=3, text="明日系统升级，暂停办理一小时。")]), 12)
        expect(page.locator("#ticker-ribbon span").first).to_have_text("明日系统升级，暂停办理一小时。")

        hall.push_status(AgentStatus(central="unreachable", updated_at=NOW, last_event_id=12))
        expect(page.locator("#conn")).to_be_visible()
        expect(page.locator("#conn")).to_have_text("中心连接中断")
        expect(page.locator("#updated")).to_have_text("数据更新于 09:41")
        page.screenshot(path=str(tmp_path / "board-central-down.png"))
        hall.push_status(AgentStatus(central="connected", updated_at=NOW + timedelta(minutes=5)))
        expect(page.locator("#conn")).to_be_hidden()
        expect(page.locator("#updated")).to_have_text(re.compile(r"^数据更新于 \d{2}:\d{2}$"))  # live: now

        page.set_viewport_size({"width": 960, "height": 540})  # a smaller screen: all of it, scaled
        page.wait_for_function(
            "() => document.getElementById('screen').getBoundingClientRect().width === 960"
        )
        assert page.locator("#screen").bounding_box() == {"x": 0, "y": 0, "width": 960, "height": 540}


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
    with local_page(browser, kiosk_url) as page:
        page.set_viewport_size({"width": 1080, "height": 1920})
        page.goto(f"{kiosk_url}/kiosk")
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


def test_a_page_resumes_its_stream_after_a_cut_missing_nothing(
    browser: Browser, hall: PageServer, url: str
) -> None:
    with local_page(browser, url) as page:
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{url}/board?rows=20")
        hall.push("case", case(50, light="red"), event_id=11)
        applied(page, 11)
        before = page.evaluate("() => window.hallwatchDisplay.applied")
        hall.drop_streams()
        hall.push("case", case(51, light="yellow"), event_id=12)
        hall.push("case_removed", CaseRemoved(case_no="SC-2026-000050"), event_id=13)
        applied(page, 13)  # resumed with Last-Event-ID: 12 and 13 only
        assert page.evaluate("() => window.hallwatchDisplay.applied") == before + 2
        expect(page.locator('#case-rows [data-case-no="SC-2026-000051"]')).to_have_attribute(
            "data-light", "yellow"
        )
        assert page.locator('[data-case-no="SC-2026-000050"]').count() == 0


GARBAGE = [
    ("case", "not json"),
    ("case", "{}"),
    ("case", '{"case_no": 5}'),
    ("case", "null"),
    ("case_removed", "[]"),
    ("summary", '"counts"'),
    ("notices", '{"notices": "x"}'),
    ("notices", '{"notices": [{"id": 1}]}'),
    ("snapshot", '{"cases": 1}'),
    ("snapshot", '{"last_event_id": 3, "cases": [{}], "notices": []}'),
    ("no_such_event", "{}"),
    ("status", "unreachable"),
]
HOSTILE = '<img src="/static/none.png"><b>粗</b>'


@pytest.mark.parametrize("path", ["board", "marquee"])
def test_pages_ignore_garbage_events_and_show_text_only_as_text(
    browser: Browser, hall: PageServer, url: str, path: str
) -> None:
    with local_page(browser, url) as page:  # any script error fails the test
        page.goto(f"{url}/{path}")
        applied(page, 10)
        for n, (name, data) in enumerate(GARBAGE, start=11):
            hall.push_raw(name, data, n)
        hostile = case(60, light="red").model_copy(update={"item": HOSTILE, "stage": "<script>x()</script>"})
        hall.push("case", hostile, event_id=30)
        applied(page, 30)
        shown = page.locator(
            '#case-rows [data-case-no="SC-2026-000060"], #entries [data-case-no="SC-2026-000060"]'
        )
        expect(shown).to_contain_text(HOSTILE)
        assert (
            page.locator("main img, #screen img, #stage img, #entries img, b, script:not([src])").count() == 0
        )
        assert page.evaluate("() => window.hallwatchDisplay.status") is None  # "unreachable" was not JSON
