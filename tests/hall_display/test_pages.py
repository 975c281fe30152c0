"""The LED marquee and the TV board (issue 16 item 2), and the feed module they share, in headless
Chromium against the small stand-in for the display agent (page_server.py) that serves them with
fixture data and an event stream the test pushes into. Screenshots at each screen's size are left in
the test's tmp_path, like the other page tests."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from common.public_feed import AgentStatus, CaseRemoved, Notice, NoticeList
from tests.browser import local_page
from tests.hall_display.hall_data import NOW, TODAY, case, open_cases, summary
from tests.hall_display.page_server import PageServer

pytestmark = pytest.mark.browser


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
