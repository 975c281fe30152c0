"""Signal and investigation pages: Chinese errors from TestClient, and the lifecycle in real Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.app import create_app
from tests.browser import chromium, local_page, serve, sign_in
from tests.central.signals.helpers import add_county_department
from tests.conftest import ROOT_PASSWORD, make_user, with_form_token


def _console(anon: TestClient, db: Engine, username: str, role: Role, scope: str) -> TestClient:
    make_user(db, username, role=role, scope=scope, password=ROOT_PASSWORD)
    r = anon.post(
        "/console/login", data={"username": username, "password": ROOT_PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return with_form_token(anon)


def test_pages_need_sign_in_and_answer_bad_input_in_chinese(
    anon: TestClient, db: Engine, session: Session, registry: dict[str, int]
) -> None:
    r = anon.get("/console/signals", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    console = _console(anon, db, "insp", Role.INSPECTOR, "region:510000")
    assert "没有需要您处理的信号" in console.get("/console/signals").text
    bad = console.get("/console/signals", params={"color": "purple"})
    assert bad.status_code == 400 and "颜色参数无效" in bad.text
    assert console.get("/console/signals", params={"view": "x"}).status_code == 400
    for path in ("/console/signals/999", "/console/signals/abc", "/console/signals/" + "9" * 40):
        missing = console.get(path)
        assert missing.status_code == 404 and "找不到该信号" in missing.text, path
    form = {"reason_code": "other_minor", "reason": "越权审批", "department_code": "NOPE"}
    refused = console.post("/console/signals/new", data=form)
    assert refused.status_code == 400 and "NOPE" in refused.text and "越权审批" in refused.text  # input kept
    assert console.get("/console/investigations/5").status_code == 404
    assert console.get("/console/investigations", params={"page": "0"}).status_code == 400


def test_post_user_may_not_raise_signals(anon: TestClient, db: Engine, registry: dict[str, int]) -> None:
    console = _console(anon, db, "clerk", Role.POST_USER, "department:SCJGJ")
    assert console.get("/console/signals/new").status_code == 403
    form = {"reason_code": "other_minor", "reason": "自查", "department_code": "SCJGJ"}
    assert console.post("/console/signals/new", data=form).status_code == 403


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def live_url(db: Engine, session: Session, settings, clock, registry: dict[str, int]) -> Iterator[str]:
    add_county_department(session)
    for username, role, scope in [
        ("insp", Role.INSPECTOR, "region:510000"),
        ("clerk", Role.POST_USER, "department:SCJGJ"),
    ]:
        make_user(db, username, role=role, scope=scope, password=ROOT_PASSWORD, now=clock())
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        yield url


def test_signal_lifecycle_through_the_pages(browser: Browser, live_url: str) -> None:
    with local_page(browser, live_url) as tab:
        sign_in(tab, live_url, "insp", ROOT_PASSWORD)
        tab.goto(f"{live_url}/console/signals/new")
        tab.get_by_label("原因").select_option("corrections_not_told_at_once")
        tab.get_by_label("或部门代码").fill("SCJGJ")
        tab.get_by_label("情况说明").fill("补正材料分三次告知")
        tab.get_by_role("button", name="发出").click()
        expect(tab.get_by_role("heading", level=1)).to_contain_text("黄色纠错")
        signal_url = tab.url
        expect(tab.locator("p.status")).to_have_text("已发出")

    with local_page(browser, live_url) as tab:
        sign_in(tab, live_url, "clerk", ROOT_PASSWORD, navigate=True)
        tab.goto(f"{live_url}/console/signals")
        row = tab.locator("tr[data-signal-id]")
        expect(row).to_have_count(1)
        row.get_by_role("link").click()
        tab.get_by_role("button", name="签收").click()
        expect(tab.locator("p.status")).to_have_text("已签收")
        tab.get_by_label("纠正情况").fill("已一次性告知全部补正内容")
        tab.get_by_role("button", name="报告纠正").click()
        expect(tab.locator("p.status")).to_have_text("已纠正")
        expect(tab.get_by_role("button", name="办结")).to_have_count(
            0
        )  # the department does not judge itself

    with local_page(browser, live_url) as tab:
        sign_in(tab, live_url, "insp", ROOT_PASSWORD)
        tab.goto(signal_url)
        close = tab.get_by_role("form", name="办结")
        close.get_by_label("说明").fill("核实已纠正")
        close.get_by_label("无过错").check()
        close.get_by_role("button", name="办结").click()
        expect(tab.locator("p.status")).to_have_text("已办结")
        expect(tab.locator(".finding")).to_have_text("无过错")
        steps = tab.locator(".timeline .event-type").all_inner_texts()
        assert steps == ["发出", "签收", "报告纠正", "办结"]
