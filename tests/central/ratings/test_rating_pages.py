"""The ratings pages through the real app (zh-CN): the dashboard with its figures, inline SVG trend
and badges; the follow-up list with overdue ones highlighted; the detail page's step and exclusion
forms; Chinese 400/403/404 pages for bad input, never a 500. The ledger lists follow-ups too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.app import create_app
from central.core.config import Settings
from tests.central.ratings.followup_world import PASSWORD, World, add_november, build_world, followup_of
from tests.conftest import FakeClock, with_form_token


@pytest.fixture
def world(client: TestClient, db: Engine, session: Session, registry: dict[str, int]) -> World:
    return build_world(client, db, session, registry)


@pytest.fixture
def ratings(client: TestClient, session: Session, world: World) -> dict[str, int]:
    return add_november(client, session, world)


@pytest.fixture
def console(
    db: Engine, settings: Settings, clock: FakeClock, ratings: dict[str, int]
) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=db, clock=clock)) as browser:
        yield browser


def sign_in(console: TestClient, username: str) -> None:
    response = console.post(
        "/console/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    with_form_token(console)


def test_dashboard_shows_figures_chart_badges_and_export_links(
    client: TestClient, console: TestClient, world: World, ratings: dict[str, int]
) -> None:
    asked = client.post(
        f"/api/v1/ratings/{ratings['r5']}/exclusion", json={"reason": "误按"}, auth=world.people["clerk"]
    )
    assert (
        client.post(
            f"/api/v1/approvals/{asked.json()['id']}/approve", auth=world.people["inspector"]
        ).status_code
        == 200
    )
    sign_in(console, "inspector")
    response = console.get("/console/ratings?date_from=2026-11-01&date_to=2026-11-30")
    assert response.status_code == 200, response.text
    html = response.text
    assert '<html lang="zh-CN">' in html and "<h1>满意度评价</h1>" in html
    assert 'aria-current="page">满意度评价</a>' in html
    assert '<dd id="kpi-count">7</dd>' in html and '<dd id="kpi-bad">2</dd>' in html
    assert re.search(r'<svg role="img" aria-label="2026-11-01 至 2026-11-30 每日评价数与满意率"', html)
    assert "<script" not in html.split("<main", 1)[1]  # the chart is plain SVG, no JS library
    assert html.count('data-key="SCJGJ"') == 1 and "省市场监管局" in html
    recent = html.split('class="cases ratings-recent"', 1)[1]
    assert f'data-id="{ratings["r5"]}"' in recent and "已剔除" in recent and "突发连按" in recent
    links = [unescape(link) for link in re.findall(r'href="(/api/v1/ratings/export\?[^"]+)"', html)]
    assert links == [
        "/api/v1/ratings/export?from=2026-11-01&to=2026-11-30&format=csv",
        "/api/v1/ratings/export?from=2026-11-01&to=2026-11-30&format=xlsx",
    ]
    assert console.get(links[0]).status_code == 200  # the session cookie signs the export in
    assert "整改超期 3 件" in html  # r0, r4, c2 (r5 is excluded)

    by_staff = console.get("/console/ratings?by=staff&date_from=2026-11-01&date_to=2026-11-30").text
    assert 'data-key="S001"' in by_staff and "张三" in by_staff


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("by=month", "分组方式无效"),
        ("by=day", "分组方式无效"),
        ("date_from=2026-13-01", "起始日期格式无效"),
        ("date_from=2026-11-30&date_to=2026-11-01", "起始日期晚于截止日期"),
        ("date_from=2020-01-01&date_to=2026-11-01", "日期范围过长"),
    ],
)
def test_dashboard_bad_parameters_are_chinese_400_pages(
    console: TestClient, query: str, message: str
) -> None:
    sign_in(console, "inspector")
    response = console.get(f"/console/ratings?{query}")
    assert response.status_code == 400 and message in response.text


def test_followup_list_highlights_overdue_and_checks_parameters(
    console: TestClient, session: Session, ratings: dict[str, int]
) -> None:
    sign_in(console, "clerk")
    html = console.get("/console/ratings/followups").text
    r4 = followup_of(session, ratings["r4"])
    r0 = followup_of(session, ratings["r0"])
    c2 = followup_of(session, ratings["c2"])
    assert r4 is not None and r0 is not None and c2 is not None
    assert f'<tr data-id="{r4.id}" class="row-red">' in html and "整改超期</span>" in html
    assert f'data-id="{c2.id}"' not in html  # another department's
    assert "共 3 条" in html  # r0, r4, r5
    overdue = console.get("/console/ratings/followups?overdue=1&status=called_back").text
    assert f'data-id="{r4.id}"' in overdue and f'data-id="{r0.id}"' not in overdue
    for query, message in (
        ("status=done", "状态参数无效"),
        ("overdue=maybe", "仅超期"),
        ("page=0", "页码无效"),
    ):
        response = console.get(f"/console/ratings/followups?{query}")
        assert response.status_code == 400 and message in response.text, query
    for missing in ("abc", "0", "99999999999999999999", "000000000001999999999999", "１", "²", str(c2.id)):
        response = console.get(f"/console/ratings/followups/{missing}")
        assert response.status_code == 404 and "不在您的辖区内" in response.text, missing


def test_detail_forms_take_steps_and_refuse_bad_ones_in_chinese(
    console: TestClient, session: Session, ratings: dict[str, int]
) -> None:
    r5 = followup_of(session, ratings["r5"])
    assert r5 is not None
    url = f"/console/ratings/followups/{r5.id}"
    sign_in(console, "clerk")
    html = console.get(url).text
    assert 'action="' + url + '/callback"' in html and "登记回访" in html and "申请剔除" in html
    assert 'action="' + url + '/close"' not in html

    response = console.post(f"{url}/rectify", data={"rectification": "提前整改"})
    assert response.status_code == 409 and "请先登记回访" in response.text
    response = console.post(f"{url}/callback", data={"result": ""})
    assert response.status_code == 400 and "请填写回访结果" in response.text
    response = console.post(f"{url}/callback", data={"result": "x", "called_at": "昨天"})
    assert response.status_code == 400 and "回访时间格式无效" in response.text
    assert console.post(f"{url}/close", data={}).status_code == 403
    assert console.post(f"{url}/delete", data={}).status_code == 404

    done = console.post(
        f"{url}/callback",
        data={"result": "已电话致歉", "called_at": "2026-11-26T15:30"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == url
    html = console.get(url).text
    assert 'data-status="called_back"' in html and "已电话致歉" in html and "回访人：clerk" in html
    assert "2026-11-26 15:30" in html

    assert console.post(f"{url}/exclusion", data={"reason": ""}).status_code == 400
    asked = console.post(f"{url}/exclusion", data={"reason": "系统误判"}, follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"].startswith("/console/approvals/")
    html = console.get(url).text
    assert "正在审批中" in html and asked.headers["location"] in html
    approval = console.get(asked.headers["location"])
    assert approval.status_code == 200 and "剔除差评" in approval.text and "系统误判" in approval.text


def test_the_ledger_lists_followups_too(
    console: TestClient, session: Session, ratings: dict[str, int]
) -> None:
    sign_in(console, "inspector")
    html = console.get("/console/ledger").text
    shown = re.findall(r'data-kind="followup" data-id="(\d+)"', html)
    assert len(shown) == 4 and "差评回访整改" in html
    assert re.findall(r'data-kind="followup"', console.get("/console/ledger?color=red").text) == []
