"""The ledger page /console/ledger (SC-7) through the real app: zh-CN table, jurisdiction, export
links carrying the filters, and a Chinese 400 page (never a 500) for bad parameters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from central.access.roles import Role
from central.app import create_app
from central.core.config import Settings
from tests.central.ledger.conftest import World
from tests.conftest import FakeClock, make_user


@pytest.fixture
def console(db: Engine, settings: Settings, clock: FakeClock, world: World) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=db, clock=clock)) as client:
        yield client


def sign_in(
    client: TestClient, db: Engine, username: str, role: Role = Role.INSPECTOR, scope: str = "*"
) -> None:
    password = make_user(db, username, role=role, scope=scope)
    response = client.post(
        "/console/login", data={"username": username, "password": password}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def shown_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-kind="signal" data-id="(\d+)"', html)]


def test_sign_in_is_required(console: TestClient) -> None:
    response = console.get("/console/ledger?color=red", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=%2Fconsole%2Fledger%3Fcolor%3Dred"


def test_page_lists_filters_and_links_exports(console: TestClient, db: Engine, world: World) -> None:
    sign_in(console, db, "root")
    response = console.get("/console/ledger")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-CN">' in html and "<h1>监察台帐</h1>" in html
    assert world.names(shown_ids(html)) == ["K1", "P3", "P2", "P1", "K2"]
    assert "共 5 条" in html and "调查超期</span>" in html

    html = console.get("/console/ledger?color=red&hall=510000-ZWFW").text
    assert world.names(shown_ids(html)) == ["P2"]
    assert "红色纠错" in html and "light light-red" in html
    links = [unescape(link) for link in re.findall(r'href="(/api/v1/ledger/export\?[^"]+)"', html)]
    assert links == [
        "/api/v1/ledger/export?color=red&hall=510000-ZWFW&format=csv",
        "/api/v1/ledger/export?color=red&hall=510000-ZWFW&format=xlsx",
    ]
    assert console.get(links[0]).status_code == 200  # the console cookie signs the export in

    html = console.get("/console/ledger?page_size=2&page=2").text
    assert world.names(shown_ids(html)) == ["P2", "P1"]
    assert 'href="/console/ledger?page_size=2&amp;page=3"' in html

    html = console.get("/console/ledger?overdue_investigation=true").text
    assert world.names(shown_ids(html)) == ["P2"]


def test_page_shows_only_the_jurisdiction(console: TestClient, db: Engine, world: World) -> None:
    sign_in(console, db, "scgat1", Role.POST_USER, "department:SCGAT")
    html = console.get("/console/ledger").text
    assert world.names(shown_ids(html)) == ["P3"]
    # Another jurisdiction's hall is named like a missing one.
    response = console.get("/console/ledger?hall=510104-ZWFW")
    assert response.status_code == 400
    assert "没有编号为“510104-ZWFW”的大厅。" in response.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("color=purple", "颜色参数无效：“purple”"),
        ("status=lost", "状态参数无效"),
        ("origin=rumour", "来源参数无效"),
        ("reason_code=nope", "没有代码为“nope”的预警纠错原因。"),
        ("issued_from=2026-13-01", "发出日期（起）格式无效"),
        ("issued_from=2026-11-20&issued_to=2026-11-01", "发出日期的起始日晚于截止日"),
        ("hall=NOPE", "没有编号为“NOPE”的大厅。"),
        ("department=NOPE", "没有编号为“NOPE”的部门。"),
        ("case_no=HW%25", "办件编号“HW%”含有不允许的字符"),
        ("overdue_investigation=maybe", "仅调查超期参数无效"),
        ("page=0", "页码无效"),
        ("page_size=100000", "每页条数无效"),
    ],
)
def test_bad_parameters_get_a_chinese_400_page(
    console: TestClient, db: Engine, world: World, params: str, message: str
) -> None:
    sign_in(console, db, "root")
    response = console.get(f"/console/ledger?{params}")
    assert response.status_code == 400, response.text
    assert "请求参数有误" in response.text
    assert message in unescape(response.text)
