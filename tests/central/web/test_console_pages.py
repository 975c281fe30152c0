"""The console pages as a person sees them: the real app under uvicorn, driven by headless Chromium.

Cases are pushed through the real HTTP event API; the clock stands at 2026-10-12 10:00 Shanghai.
Needs Debian's `chromium` (and `fonts-noto-cjk` so Chinese renders in screenshots).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from central.app import create_app
from tests.browser import ACTION_TIMEOUT_MS, chromium, local_page, serve
from tests.browser import sign_in as browser_sign_in
from tests.conftest import make_user

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-battery-2026"

HALL = "510000-ZWFW"
ITEM = "SCJGJ-XK-001"  # promised 10, legal 20 working days


def _event(event_id: str, case_no: str, kind: str, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "case_no": case_no,
        "type": kind,
        "at": at,
        "item_code": ITEM,
        "hall_code": HALL,
        "window_code": "W01",
        "staff_code": "S001",
        **extra,
    }


EVENTS = [
    # green: accepted today, 10 working days left
    _event("g1", "HW-G1", "accepted", "2026-10-12T09:00:00+08:00", applicant_name="赵一"),
    # yellow: due 2026-10-15, 3 working days left
    _event("y1", "HW-Y1", "accepted", "2026-09-25T09:00:00+08:00", applicant_name="钱二"),
    # red: promised and legal limits both passed
    _event("r1", "HW-R1", "accepted", "2026-09-01T09:00:00+08:00", applicant_name="孙三"),
    _event("r2", "HW-R1", "undertaken", "2026-09-02T10:00:00+08:00"),
    # suspended for an expert review (LAW art. 45): the clock is frozen
    _event("s1", "HW-S1", "accepted", "2026-10-09T09:00:00+08:00", applicant_name="李四"),
    _event("s2", "HW-S1", "suspended", "2026-10-10T15:00:00+08:00", reason="专家评审"),
    # completed on time, with a closed suspension and an extension on the way
    _event("c1", "HW-C1", "received", "2026-09-14T09:00:00+08:00", applicant_name="周五"),
    _event("c2", "HW-C1", "accepted", "2026-09-15T01:30:00Z"),  # 09:30 in Shanghai
    _event("c3", "HW-C1", "undertaken", "2026-09-16T10:00:00+08:00"),
    _event("c4", "HW-C1", "suspended", "2026-09-17T14:00:00+08:00", reason="产品检验检测"),
    _event("c5", "HW-C1", "resumed", "2026-09-21T09:00:00+08:00"),
    _event("c6", "HW-C1", "extended", "2026-09-22T11:00:00+08:00", days=3, reason="需现场核查"),
    _event("c7", "HW-C1", "reviewed", "2026-09-23T10:00:00+08:00"),
    _event("c8", "HW-C1", "approved", "2026-09-24T10:00:00+08:00"),
    _event("c9", "HW-C1", "completed", "2026-09-25T16:00:00+08:00"),
]
ALL_CASES = ["HW-G1", "HW-Y1", "HW-R1", "HW-S1", "HW-C1"]


@pytest.fixture
def live_url(db, settings, clock, registry) -> Iterator[str]:
    """The real app on a free loopback port, with the cases above pushed through its HTTP API."""
    clock.set_shanghai(2026, 10, 12)
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        make_user(db, "inspector1", now=clock())
        token = httpx.post(
            f"{url}/api/v1/auth/token", data={"username": "inspector1", "password": PASSWORD}, timeout=30
        ).json()["access_token"]
        response = httpx.post(
            f"{url}/api/v1/cases/events",
            json=EVENTS,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert response.json()["stored"] == len(EVENTS)
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, live_url: str) -> Iterator[Page]:
    with local_page(browser, live_url) as tab:
        sign_in(tab, live_url)
        yield tab


def sign_in(tab: Page, live_url: str, password: str = PASSWORD, *, navigate: bool = True) -> None:
    browser_sign_in(tab, live_url, "inspector1", password, navigate=navigate)


def test_sign_in_is_required_and_wrong_password_is_told(browser: Browser, live_url: str) -> None:
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    tab = context.new_page()
    try:
        tab.goto(f"{live_url}/console/cases?light=red")
        assert "/console/login" in tab.url
        sign_in(tab, live_url, password="not-the-password-at-all", navigate=False)
        expect(tab.get_by_role("alert")).to_have_text("用户名或密码错误。")
        sign_in(tab, live_url, navigate=False)
        tab.wait_for_url(f"{live_url}/console/cases?light=red")  # back where the user was going
        expect(tab.locator(".whoami")).to_contain_text("inspector1")
        tab.get_by_role("button", name="退出").click()  # a form: signing out carries the form token
        tab.goto(f"{live_url}/console/cases")
        assert "/console/login" in tab.url
    finally:
        context.close()


def _row(page: Page, case_no: str) -> Locator:
    return page.locator(f'tr[data-case-no="{case_no}"]')


def _shown_case_numbers(page: Page) -> list[str]:
    return page.locator("table.cases tbody td.case-no").all_inner_texts()


def _timeline(page: Page) -> list[str]:
    return page.locator("ol.timeline .event-type").all_inner_texts()


def test_case_list_shows_every_case_with_its_light(page: Page, live_url: str, tmp_path: Path) -> None:
    response = page.goto(f"{live_url}/console/cases")
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == "办件列表"
    nav = page.get_by_role("navigation", name="主导航")
    assert nav.get_by_role("link", name="办件监察").get_attribute("aria-current") == "page"
    assert sorted(_shown_case_numbers(page)) == sorted(ALL_CASES)
    assert "共 5 条" in page.locator(".summary").inner_text()
    assert "第 1 页 / 共 5 条" in page.locator(".pager").inner_text()

    lights = {c: _row(page, c).locator(".light-label").inner_text() for c in ALL_CASES}
    assert lights == {
        "HW-G1": "绿灯",
        "HW-Y1": "黄灯",
        "HW-R1": "红灯",
        "HW-S1": "绿灯",  # frozen with 9 working days left
        "HW-C1": "已结束",
    }
    assert _row(page, "HW-G1").locator("td.remaining").inner_text() == "10"
    assert _row(page, "HW-Y1").locator("td.remaining").inner_text() == "3"
    assert _row(page, "HW-R1").locator("td.remaining").inner_text().startswith("超期 ")
    assert _row(page, "HW-R1").locator(".badge").all_inner_texts() == ["法定超期"]
    assert _row(page, "HW-C1").locator(".badge").all_inner_texts() == ["按期办结"]
    assert _row(page, "HW-S1").locator("td.status").inner_text() == "暂停(特别程序)"
    assert _row(page, "HW-C1").locator("td.status").inner_text() == "已办结"
    y1 = _row(page, "HW-Y1").locator("td").all_inner_texts()
    assert y1[1:7] == ["食品经营许可", "省市场监管局", "钱二", "已受理", "2026-09-25", "2026-10-15"]
    page.screenshot(path=str(tmp_path / "cases-list.png"), full_page=True)


def test_case_list_filters_and_paging(page: Page, live_url: str, tmp_path: Path) -> None:
    page.goto(f"{live_url}/console/cases")
    # Choosing 红灯 applies the filter at once (console.js) and leaves only the red case.
    page.get_by_label("灯色").select_option(label="红灯")
    page.wait_for_url("**/console/cases?light=red")
    assert _shown_case_numbers(page) == ["HW-R1"]
    assert page.get_by_label("灯色").evaluate("s => s.options[s.selectedIndex].text") == "红灯"
    assert "共 1 条（已筛选）" in page.locator(".summary").inner_text()
    page.screenshot(path=str(tmp_path / "cases-list-red.png"), full_page=True)

    # The status filter lists Chinese names.
    page.get_by_label("状态").select_option(label="暂停(特别程序)")
    page.wait_for_url("**status=suspended**")
    assert _shown_case_numbers(page) == []  # still filtered to 红灯
    page.get_by_role("link", name="清除筛选").first.click()
    page.wait_for_url(f"{live_url}/console/cases")
    page.get_by_label("状态").select_option(label="暂停(特别程序)")
    page.wait_for_url("**/console/cases?status=suspended")
    assert _shown_case_numbers(page) == ["HW-S1"]

    # Keyboard: "/" jumps to the case-number search, Enter applies it.
    page.goto(f"{live_url}/console/cases")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "case_no"
    page.keyboard.type("HW-C")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/cases?case_no=HW-C")
    assert _shown_case_numbers(page) == ["HW-C1"]

    # Arrowing through a list with the keyboard does not reload the page; leaving it applies the choice.
    page.goto(f"{live_url}/console/cases")
    page.evaluate("window.sameDocument = true")
    page.get_by_label("灯色").focus()
    page.keyboard.press("ArrowDown")  # 绿灯
    page.keyboard.press("ArrowDown")  # 黄灯
    page.wait_for_timeout(300)  # a reload, had one started, would have replaced the document by now
    assert page.evaluate("window.sameDocument === true")
    assert page.url == f"{live_url}/console/cases"
    page.keyboard.press("Tab")
    page.wait_for_url("**/console/cases?light=yellow")
    assert _shown_case_numbers(page) == ["HW-Y1"]

    # Paging keeps the filters and says where the person is.
    page.goto(f"{live_url}/console/cases?page_size=2")
    assert "第 1 页 / 共 5 条（共 3 页）" in page.locator(".pager").inner_text()
    page.get_by_role("link", name="下一页").click()
    page.wait_for_url("**page=2**")
    assert "第 2 页 / 共 5 条（共 3 页）" in page.locator(".pager").inner_text()
    assert len(_shown_case_numbers(page)) == 2
    page.get_by_role("link", name="上一页").click()
    page.wait_for_url("**page=1**")


def test_case_detail_shows_timeline_and_as_of(page: Page, live_url: str, tmp_path: Path) -> None:
    page.goto(f"{live_url}/console/cases")
    page.get_by_role("link", name="HW-C1", exact=True).click()
    page.wait_for_url(f"{live_url}/console/cases/HW-C1")
    assert page.get_by_role("heading", level=1).inner_text() == "办件 HW-C1"
    facts = dict(
        zip(
            page.locator("dl.facts dt").all_inner_texts(),
            page.locator("dl.facts dd").all_inner_texts(),
            strict=True,
        )
    )
    assert facts["事项"].startswith("食品经营许可")
    assert facts["部门"] == "省市场监管局"
    assert facts["大厅"] == "四川省政务服务中心"
    assert facts["申请人"] == "周五"
    assert facts["状态"] == "已办结"
    assert "按期办结" in facts["灯色"]
    assert facts["受理日期"] == "2026-09-15"
    assert "承诺时限 10 个工作日" in facts["承诺办结日"]
    assert "法定时限 20 个工作日" in facts["法定办结日"]
    assert facts["延期"] == "3 个工作日"
    assert facts["暂停工作日"] == "3 个工作日"  # 09-18, 09-20 (make-up Sunday) and 09-21
    assert facts["规则配置"] == "sichuan-2011"

    assert _timeline(page) == [
        "收件",
        "受理",
        "承办",
        "暂停(特别程序)",
        "恢复计时",
        "延期",
        "审核",
        "批准",
        "办结",
    ]
    times = page.locator("ol.timeline time").all_inner_texts()
    assert times[:2] == ["2026-09-14 09:00", "2026-09-15 09:30"]  # the second was sent in UTC
    assert times == sorted(times)
    accepted = page.locator('li[data-event-type="accepted"]').inner_text()
    assert "1号窗口" in accepted and "张三" in accepted
    extended = page.locator('li[data-event-type="extended"]').inner_text()
    assert "3 个工作日" in extended and "需现场核查" in extended
    assert "产品检验检测" in page.locator('li[data-event-type="suspended"]').inner_text()
    page.screenshot(path=str(tmp_path / "case-detail.png"), full_page=True)

    # As of 2026-09-17 12:00 the case was being undertaken; later events are not shown.
    page.get_by_label("查询时点（北京时间）").fill("2026-09-17T12:00")
    page.get_by_role("button", name="查看该时点状态").click()
    page.wait_for_url("**/console/cases/HW-C1?as_of=2026-09-17T12%3A00")
    assert _timeline(page) == ["收件", "受理", "承办"]
    assert "截至 2026-09-17 12:00" in page.locator(".notice-audit").inner_text()
    assert page.locator("dd.status").inner_text() == "承办中"
    assert page.locator("dl.facts .light-label").inner_text() == "绿灯"
    page.screenshot(path=str(tmp_path / "case-detail-as-of.png"), full_page=True)
    page.get_by_role("link", name="回到当前").click()
    page.wait_for_url(f"{live_url}/console/cases/HW-C1")
    assert len(_timeline(page)) == 9

    # The suspended case: frozen clock, the reason on its timeline.
    page.goto(f"{live_url}/console/cases/HW-S1")
    assert page.locator("dd.status").inner_text() == "暂停(特别程序)"
    assert _timeline(page) == ["受理", "暂停(特别程序)"]
    assert "专家评审" in page.locator('li[data-event-type="suspended"]').inner_text()
    assert page.locator("dd.remaining").inner_text() == "9"

    # The red case says how late it is.
    page.goto(f"{live_url}/console/cases/HW-R1")
    assert page.locator("dl.facts .light-label").inner_text() == "红灯"
    assert page.locator("dd.remaining").inner_text().startswith("超期 ")
    assert "法定超期" in page.locator("dl.facts").inner_text()


def test_unknown_case_and_bad_parameters_get_chinese_pages(page: Page, live_url: str, tmp_path: Path) -> None:
    response = page.goto(f"{live_url}/console/cases/HW-NOPE")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "未找到办件 HW-NOPE"
    page.screenshot(path=str(tmp_path / "case-not-found.png"), full_page=True)

    # Before it was received, a case did not exist yet.
    response = page.goto(f"{live_url}/console/cases/HW-C1?as_of=2026-09-01T08:00")
    assert response is not None and response.status == 404
    assert "截至 2026-09-01 08:00" in page.locator(".message").inner_text()

    bad = {
        "/console/cases?light=purple": "灯色参数无效",
        "/console/cases?page=0": "页码无效",
        "/console/cases?page=abc": "页码无效",
        "/console/cases?status=done": "状态参数无效",
        "/console/cases?accepted_from=2026-02-30": "受理日期（起）格式无效",
        "/console/cases?accepted_from=2026-10-02&accepted_to=2026-10-01": "起始日晚于截止日",
        "/console/cases?hall=NOWHERE": "没有编号为“NOWHERE”的大厅",
        "/console/cases?page_size=100000": "每页条数无效",
        "/console/cases/HW-C1?as_of=yesterday": "查询时点格式无效",
    }
    for path, message in bad.items():
        response = page.goto(live_url + path)
        assert response is not None and response.status == 400, path
        assert page.get_by_role("heading", level=1).inner_text() == "请求参数有误", path
        assert message in page.locator(".message").inner_text(), path
    page.screenshot(path=str(tmp_path / "bad-parameter.png"), full_page=True)
