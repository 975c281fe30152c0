"""The complaint flow as people live it, in headless Chromium against the real app under uvicorn,
on both databases: on a phone, a citizen's first try with a file that lies about its type is
refused (the form keeps what was typed), the second goes in on the eve of National Day and the
receipt gives the last day to decide across the holiday (2026-10-13); an inspector finds it through
the console's navigation, reads it in full, accepts it, prints the written notice, closes it with
the outcome; the citizen's status page shows the decision, the outcome and the notice (the name
masked). An anonymous complaint is refused with reasons, which its status page gives.
Screenshots are left in test-artifacts/complaints/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.complaints.models import Complaint
from central.core.config import Settings
from tests.browser import chromium, local_page, serve, shot_per_database, sign_in
from tests.central.complaints.helpers import HALL, PASSWORD, make_users, png, solve
from tests.conftest import FakeClock

pytestmark = pytest.mark.browser
PHONE = (390, 844)
ARTIFACTS = (
    Path(os.environ.get("HALLWATCH_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "test-artifacts"))
    / "complaints"
)


@pytest.fixture
def live_url(db: Engine, settings: Settings, clock: FakeClock, registry: dict[str, int]) -> Iterator[str]:
    clock.set_shanghai(2026, 9, 30, 10)  # the eve of National Day: 1..7 October are holidays
    make_users(db, clock())
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def shot(page: Page, db: Engine, name: str) -> None:
    shot_per_database(page, ARTIFACTS, db.dialect.name, name)


def answer_question(page: Page) -> None:
    label = page.locator("label[for=answer]").inner_text()
    question = re.search(r"验证题：(.+?)（", label)
    assert question, label
    page.get_by_label(re.compile("^验证题")).fill(solve(question.group(1)))


def fill_named_complaint(page: Page) -> None:
    page.get_by_role("radio", name="工作人员", exact=True).check()
    page.get_by_label(re.compile("^工作人员工号")).fill("S001")
    page.get_by_label("投诉内容").fill(
        "9月30日上午在1号窗口办理食品经营许可，工作人员未一次性告知需补正的材料，让我跑了三趟。"
    )
    page.get_by_role("radio", name=re.compile("实名")).check()
    page.get_by_label(re.compile("^姓名")).fill("张三明")
    page.get_by_label(re.compile("^联系电话")).fill("13800138000")


def submit_on_a_phone(browser: Browser, live_url: str, db: Engine, session: Session) -> tuple[str, str]:
    """A first try with a file that lies about its type, refused with the form kept; a second that
    goes in. The receipt's number and password."""
    with local_page(browser, live_url, viewport=PHONE, mobile=True) as phone:
        phone.goto(f"{live_url}/complaints/new?hall={HALL}")
        assert phone.get_by_role("heading", level=1).inner_text() == "我要投诉"
        assert "四川省政务服务中心" in phone.locator(".field-static").inner_text()
        fill_named_complaint(phone)
        # A page of HTML called photo.jpg: refused for what its bytes are, the form kept.
        phone.get_by_label(re.compile("^附件")).set_input_files(
            [{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"<!doctype html><p>not a photo</p>"}]
        )
        answer_question(phone)
        phone.get_by_role("button", name="提交投诉").click()
        assert "“photo.jpg”的类型不受支持" in phone.get_by_role("alert").inner_text()
        assert phone.get_by_label(re.compile("^姓名")).input_value() == "张三明"
        shot(phone, db, "01-lying-attachment-refused")
        assert session.scalars(select(Complaint)).first() is None

        phone.get_by_label(re.compile("^附件")).set_input_files(
            [{"name": "窗口.png", "mimeType": "image/png", "buffer": png()}]
        )
        answer_question(phone)  # a fresh question: the last token was spent
        phone.get_by_role("button", name="提交投诉").click()
        assert phone.get_by_role("heading", name="投诉已提交").is_visible()
        number = phone.locator("#complaint-number").inner_text()
        password = phone.locator("#complaint-password").inner_text()
        assert re.fullmatch(r"TS20260930\d{6}", number) and re.fullmatch(r"\d{6}", password)
        assert "2026-10-13" in phone.locator("#decide-by").inner_text()  # 5 working days over the holiday
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE[0], f"the receipt scrolls sideways on a phone ({width}px)"
        shot(phone, db, "02-receipt")
    return number, password


def handle_in_the_console(browser: Browser, live_url: str, db: Engine, number: str) -> None:
    """The inspector finds it through the navigation, reads it in full, accepts it, prints the
    written notice, closes it with the outcome."""
    with local_page(browser, live_url) as console:
        sign_in(console, live_url, "inspector", PASSWORD)
        console.wait_for_url("**/console/cases")
        console.get_by_role("navigation", name="主导航").get_by_role("link", name="投诉处理").click()
        console.wait_for_url("**/console/complaints")
        console.get_by_role("link", name=number).click()
        assert console.locator("#complainant").inner_text() == "张三明 · 13800138000"
        assert console.get_by_role("link", name="窗口.png").is_visible()
        decide = console.get_by_role("form", name="受理决定")
        decide.get_by_role("radio", name="受理", exact=True).check()
        decide.get_by_label(re.compile("^理由或说明")).fill("符合受理条件，转交调查处理。")
        decide.get_by_role("button", name="提交决定").click()
        assert console.locator("#complaint-status").inner_text() == "已受理，处理中"
        shot(console, db, "03-accepted")

        console.get_by_role("link", name="打印书面告知书").click()
        letter = console.locator(".notice-letter")
        assert "受理告知书" in letter.inner_text() and "张三明：" in letter.inner_text()
        assert "2026年10月9日" in letter.inner_text()
        console.emulate_media(media="print")
        assert not console.locator(".topbar").is_visible()  # the notice prints alone
        shot(console, db, "04-notice-print")
        console.emulate_media(media="screen")
        console.go_back()

        close = console.get_by_role("form", name="处理结果与答复")
        close.get_by_label("调查处理情况").fill("经调阅窗口录像，工作人员未一次性告知补正材料，情况属实。")
        close.get_by_role("radio", name="投诉属实").check()
        close.get_by_label("答复投诉人").fill("已责令该窗口整改并对工作人员批评教育，向您致歉。")
        close.get_by_role("button", name="办结").click()
        assert console.locator("#outcome").inner_text().startswith("投诉属实")


def test_a_complaint_from_the_public_page_to_the_written_decision(
    browser: Browser, live_url: str, db: Engine, session: Session, clock: FakeClock
) -> None:
    number, password = submit_on_a_phone(browser, live_url, db, session)
    clock.set_shanghai(2026, 10, 9, 9)
    handle_in_the_console(browser, live_url, db, number)
    with local_page(browser, live_url, viewport=PHONE, mobile=True) as phone:
        phone.goto(f"{live_url}/complaints/status")
        phone.get_by_label("投诉编号").fill(number)
        phone.get_by_label("查询密码").fill(password)
        phone.get_by_role("button", name="查询").click()
        assert phone.locator("#status-label").inner_text() == "已办结"
        assert phone.locator("#outcome").inner_text() == "投诉属实"
        letter = phone.locator(".notice-letter").inner_text()
        assert "投诉处理结果告知书" in letter and "张*明：" in letter and "张三明" not in phone.content()
        shot(phone, db, "05-status-with-outcome")


def test_an_anonymous_complaint_refused_with_reasons(
    browser: Browser, live_url: str, db: Engine, session: Session
) -> None:
    with local_page(browser, live_url, viewport=PHONE, mobile=True) as phone:
        phone.goto(f"{live_url}/complaints/new")
        phone.get_by_role("combobox", name="服务中心").select_option(label="四川省政务服务中心")
        phone.get_by_role("radio", name="部门", exact=True).check()
        phone.get_by_label(re.compile("^部门编号")).fill("SCJGJ")
        phone.get_by_label("投诉内容").fill("对市场监管局的行政处罚决定不服，要求撤销处罚。")
        phone.get_by_role("radio", name=re.compile("匿名")).check()
        answer_question(phone)
        phone.get_by_role("button", name="提交投诉").click()
        number = phone.locator("#complaint-number").inner_text()
        password = phone.locator("#complaint-password").inner_text()
    stored = session.scalars(select(Complaint)).one()
    assert stored.anonymous and stored.complainant_name is None

    with local_page(browser, live_url) as console:
        sign_in(console, live_url, "inspector", PASSWORD)
        console.goto(f"{live_url}/console/complaints/{stored.id}")
        assert console.locator("#complainant").inner_text() == "匿名"
        decide = console.get_by_role("form", name="受理决定")
        decide.get_by_role("radio", name="不予受理").check()
        decide.get_by_role("button", name="提交决定").click()  # no reasons: refused, in Chinese
        assert "不予受理须写明理由" in console.get_by_role("alert").inner_text()
        decide = console.get_by_role("form", name="受理决定")
        decide.get_by_role("radio", name="不予受理").check()
        decide.get_by_label(re.compile("^理由或说明")).fill(
            "对行政处罚不服属于行政复议或行政诉讼范围，请依法申请复议或起诉。"
        )
        decide.get_by_role("button", name="提交决定").click()
        assert console.locator("#complaint-status").inner_text() == "不予受理"
        assert not console.get_by_role("link", name="打印书面告知书").is_visible()  # nobody to write to

    with local_page(browser, live_url, viewport=PHONE, mobile=True) as phone:
        phone.goto(f"{live_url}/complaints/status")
        phone.get_by_label("投诉编号").fill(number)
        phone.get_by_label("查询密码").fill(password)
        phone.get_by_role("button", name="查询").click()
        assert phone.locator("#status-label").inner_text() == "不予受理"
        assert "行政复议" in phone.locator("#refusal-reasons").inner_text()
        assert phone.locator(".notice-letter").count() == 0
        shot(phone, db, "06-anonymous-refused")
