"""The score pages through the real app (zh-CN): 绩效得分 with its rankings, inline SVG trend and
dimension table; a subject's page with the explained lines, their links and the earlier figures; my
own page; another jurisdiction's hall or subject a 404 page; bad input a Chinese 400 page, never a
500. One test drives headless Chromium and leaves screenshots in test-artifacts/scores/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.app import create_app
from central.core.config import Settings
from tests.browser import chromium, local_page, serve
from tests.browser import sign_in as browser_sign_in
from tests.central.scores.page_world import EXCLUDED_REASON, PASSWORD, SIGNAL_ID, World, build_world
from tests.conftest import FakeClock, with_form_token

ARTIFACTS = (
    Path(os.environ.get("HALLWATCH_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "test-artifacts"))
    / "scores"
)


@pytest.fixture
def world(
    client: TestClient, db: Engine, session: Session, registry: dict[str, int], clock: FakeClock
) -> World:
    """After `client` (root exists): the two halls, their users and their November scores."""
    return build_world(db, session, registry, clock())


@pytest.fixture
def console(db: Engine, settings: Settings, clock: FakeClock, world: World) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=db, clock=clock)) as browser:
        yield browser


def sign_in(console: TestClient, username: str) -> None:
    response = console.post(
        "/console/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    with_form_token(console)


def _table(html: str, level: str) -> str:
    return html.split(f'data-level="{level}"', 1)[1].split("</table>", 1)[0]


def _order(table: str) -> list[str]:
    return re.findall(r'<tr data-code="([^"]+)"', table)


def test_scores_page_ranks_halls_departments_and_staff(console: TestClient) -> None:
    sign_in(console, "root")
    response = console.get("/console/scores")
    assert response.status_code == 200, response.text
    html = response.text
    assert '<html lang="zh-CN">' in html and "<h1>绩效得分</h1>" in html
    assert 'aria-current="page">绩效得分</a>' in html
    assert "全部辖区 · 2026-11-26" in html
    assert _order(_table(html, "hall")) == ["510000-ZWFW", "510104-ZWFW"]
    assert _order(_table(html, "department")) == ["SWJ", "JJSCJG", "SCJGJ"]
    staff = _table(html, "staff")
    assert _order(staff) == ["S002", "S003", "S101", "S001"]
    assert '<a href="/console/scores/staff/S001">张三</a>' in staff and "−4" in staff
    assert "期限合法" in staff and 'title="满分 14"' in staff
    assert re.search(r'<svg role="img" aria-label="全部辖区 2026-11 每日得分趋势"', html)
    assert "<script" not in html.split("<main", 1)[1]
    assert '<dd id="selection-score">95.75 / 100</dd>' in html
    unscored = html.split('id="unscored"', 1)[1].split("</p>", 1)[0]
    assert "七台河市政务服务中心（qitaihe-2008）" in unscored and "不计算绩效得分" in unscored
    assert 'value="region:510104"' in html and 'value="hall:510104-ZWFW"' in html

    hall = console.get("/console/scores?at=hall:510000-ZWFW&day=2026-11-25").text
    assert 'data-level="hall"' not in hall  # one hall: its departments and staff
    assert _order(_table(hall, "staff")) == ["S002", "S003", "S001"]
    assert "已重算" in _table(hall, "staff")
    assert 'href="/console/scores/hall/510000-ZWFW"' in hall
    assert console.get("/console/scores?hall=510104-ZWFW").status_code == 200  # as the API spells it
    empty = console.get("/console/scores?day=2026-10-01").text
    assert "该日没有人员得分" in empty


def test_subject_page_explains_every_line_and_keeps_earlier_figures(
    console: TestClient, world: World
) -> None:
    sign_in(console, "county")
    assert console.get("/console/scores/staff/S001").status_code == 404  # another jurisdiction's
    refused = console.get("/console/scores?at=hall:510000-ZWFW")
    assert refused.status_code == 404 and "辖区内没有代码为“510000-ZWFW”的大厅" in refused.text
    own_hall = console.get("/console/scores").text
    assert _order(_table(own_hall, "staff")) == ["S101"] and "七台河" not in own_hall

    sign_in(console, "taxclerk")  # a post user of another department of the same hall (SZ-19)
    page = console.get("/console/scores/staff/S001")
    assert page.status_code == 200, page.text
    html = unescape(page.text)
    assert "张三" in html and "人员 S001" in html and '<dd id="month-score">86 / 100</dd>' in html
    assert re.search(r'<svg role="img" aria-label="张三 2026-11 每日得分趋势"', html)
    lines = html.split('class="cases score-lines"', 1)[1].split("</table>", 1)[0]
    assert "红灯 1 件 × −10 = −10" in lines and f'href="/console/signals/{SIGNAL_ID}"' in lines
    assert f'href="/console/ratings/followups/{world.followup_id}"' in lines and "提前办结" in lines
    dims = html.split('class="cases score-dimensions"', 1)[1].split("</table>", 1)[0]
    assert re.search(
        r'data-dimension="time_limits" class="row-yellow">\s*<td>期限合法</td><td class="num">14</td><td class="num">5</td>',
        dims,
    )
    earlier = html.split('class="score-earlier"', 1)[1].split("</ul>", 1)[0]
    assert (
        f"2026-11-25：原得分 80（第 1 版，2026-11-26 01:00 计算），因{EXCLUDED_REASON}，于 2026-11-26 11:00 重算，现为 90。"
        in earlier
    )
    october = console.get("/console/scores/staff/S001?month=2026-10").text
    assert "2026-10 没有得分记录" in october
    window = console.get("/console/scores/window/510000-ZWFW:W01")
    assert window.status_code == 200 and "1号窗口" in window.text
    unscored = console.get("/console/scores/hall/230900-ZWFW")
    assert unscored.status_code == 404  # not in a post user's hall
    sign_in(console, "root")
    unscored = console.get("/console/scores/hall/230900-ZWFW")
    assert "未设绩效评分方案，不计算绩效得分" in unscored.text


def test_my_own_page_or_a_clear_message(console: TestClient) -> None:
    sign_in(console, "clerk")  # 张三's account
    mine = console.get("/console/scores/me")
    assert mine.status_code == 200 and "我的得分 · 张三" in mine.text and "红灯 1 件 × −10 = −10" in mine.text
    assert 'action="/console/scores/me"' in mine.text
    assert '<a href="/console/scores/me">查看我的得分</a>' in console.get("/console/scores").text
    sign_in(console, "taxclerk")
    nobody = console.get("/console/scores/me")
    assert nobody.status_code == 200 and "您的账号没有关联到工作人员" in nobody.text
    assert "查看我的得分" not in console.get("/console/scores").text


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/console/scores?day=2026-13-45", 400, "日期格式无效"),
        ("/console/scores?at=somewhere", 400, "范围参数无效"),
        ("/console/scores?hall=A&region=510000", 400, "大厅与地区只能选择其一"),
        ("/console/scores?region=51", 400, "地区代码无效"),
        ("/console/scores?staff_page=0", 400, "页码无效"),
        ("/console/scores?at=hall:NOPE", 404, "辖区内没有代码为“NOPE”的大厅"),
        ("/console/scores/boss/S001", 404, "没有“boss”这一层级"),
        ("/console/scores/staff/S999", 404, "辖区内没有代码为“S999”的人员"),
        ("/console/scores/staff/S001?month=2026-13", 400, "月份格式无效"),
        ("/console/scores/window/W01", 422, "请写作“大厅代码:W01”"),
        ("/console/scores/me?month=x", 400, "月份格式无效"),
    ],
)
def test_bad_input_gets_a_chinese_page(console: TestClient, url: str, status: int, words: str) -> None:
    sign_in(console, "root")
    response = console.get(url)
    assert response.status_code == status, response.text
    assert words in response.text and response.headers["content-type"].startswith("text/html")


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.browser
def test_a_person_opens_the_scores_and_a_subject_in_chromium(
    db: Engine, settings: Settings, clock: FakeClock, world: World
) -> None:
    with (
        serve(create_app(settings, engine=db, clock=clock)) as url,
        chromium() as browser,
        local_page(browser, url) as page,
    ):
        browser_sign_in(page, url, "taxclerk", PASSWORD)
        page.wait_for_url("**/console/cases")
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="绩效得分").click()
        page.wait_for_url("**/console/scores")
        assert page.get_by_role("heading", level=1).inner_text() == "绩效得分"
        chart = page.get_by_role("img", name="每日得分趋势")
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300
        _shot(page, "scores.png")
        page.locator('table[data-level="staff"]').get_by_role("link", name="张三").click()
        page.wait_for_url("**/console/scores/staff/S001")
        assert page.locator("#month-score").inner_text() == "86 / 100"
        assert page.get_by_text("红灯 1 件 × −10 = −10").is_visible()
        assert page.locator(".score-earlier li").inner_text().startswith("2026-11-25：原得分 80")
        _shot(page, "subject.png")
