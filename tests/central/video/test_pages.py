"""The video pages through the real app (zh-CN): the halls list, one hall with window states, the
timeline SVG, visitor counts beside recorded cases and the day's absences; the 确认 / 排除 forms with
the form token; 申请查看 filing an evidence_view approval, and the thumbnail once it is approved
(SC-18); Chinese 400/403/404 pages for bad input, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.approvals.models import ApprovalRequest
from central.core.config import Settings
from central.signals.models import Signal
from central.video.models import AbsenceEvent
from tests.central.video.helpers import (
    HALL,
    PASSWORD,
    World,
    absence,
    camera_health,
    edge,
    evidence,
    presence,
    shanghai,
    upload,
    visitors,
    world,
)
from tests.conftest import FakeClock

__all__ = ["edge", "world"]

PAGE = f"/console/video/halls/{HALL}"
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


@pytest.fixture
def console(db: Engine, settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=db, clock=clock)) as browser:
        yield browser


def sign_in(console: TestClient, username: str) -> None:
    r = console.post(
        "/console/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


@pytest.fixture
def a_morning(client: TestClient, world: World, clock: FakeClock) -> int:
    """W01: present 09:00-09:20, absent 09:20-09:45 with a snapshot; 5 visits at 09:00. Returns the absence id."""
    shot = evidence(shanghai(clock, 9, 21))
    body = upload(
        client,
        world.headers["EDGE-P"],
        camera_health(shanghai(clock, 9, 59)),
        presence(shanghai(clock, 9), shanghai(clock, 9, 20)),
        shot,
        absence(shanghai(clock, 9, 20), evidence=[shot["id"]]),
        absence(shanghai(clock, 9, 20), shanghai(clock, 9, 45)),
        visitors(shanghai(clock, 9), 5),
    )
    assert body["rejected"] == 0, body
    listed = client.get("/api/v1/video/absences", auth=world.people["inspector"]).json()
    return int(listed["items"][0]["id"])


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_halls_and_the_hall_page(console: TestClient, a_morning: int) -> None:
    sign_in(console, "inspector")
    halls = console.get("/console/video")
    assert halls.status_code == 200
    assert 'href="/console/video" aria-current="page"' in halls.text
    assert f'href="/console/video/halls/{HALL}"' in halls.text
    page = console.get(PAGE)
    assert page.status_code == 200, page.text
    words = text_of(page.text)
    assert "窗口当前状态" in words and "在岗" in words and "今日时间轴" in words
    assert 'role="img" aria-label="四川省政务服务中心 2026-11-27 窗口在岗时间轴"' in page.text
    assert page.text.count('data-kind="presence"') == 1 and page.text.count('data-kind="absence"') == 1
    assert f'id="absence-{a_morning}"' in page.text and "待核实" in words and "25 分钟" in words
    assert "申请查看" in words and "<img" not in page.text  # no grant yet: no thumbnail
    assert re.search(r'class="num visits">5<', page.text)  # 5 visits, no case recorded: +5
    assert re.search(r'class="num difference">\+5<', page.text)


def test_confirming_through_the_form_needs_the_form_token(
    console: TestClient, a_morning: int, session: Session
) -> None:
    sign_in(console, "inspector")
    token = TOKEN.search(console.get(PAGE).text)
    assert token is not None
    forged = console.post(f"/console/video/absences/{a_morning}/confirm", data={"note": "x"})
    assert forged.status_code == 403 and "表单校验失败" in forged.text
    r = console.post(
        f"/console/video/absences/{a_morning}/confirm",
        data={"csrf_token": token.group(1), "note": "回放属实"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"{PAGE}?day=2026-11-27#absence-{a_morning}"
    signal = session.scalars(select(Signal)).one()
    assert signal.origin == "video"
    page = console.get(r.headers["location"]).text
    assert "已确认" in text_of(page) and f'href="/console/signals/{signal.id}"' in page
    assert f'action="/console/video/absences/{a_morning}/confirm"' not in page
    detail = console.get(f"/console/signals/{signal.id}")
    assert (
        detail.status_code == 200
        and "工作时间擅离岗位" in detail.text
        and "离岗约 25 分钟" in unescape(detail.text)
    )


def test_dismissing_without_a_reason_shows_the_problem(
    console: TestClient, a_morning: int, session: Session
) -> None:
    sign_in(console, "inspector")
    token = TOKEN.search(console.get(PAGE).text)
    assert token is not None
    r = console.post(
        f"/console/video/absences/{a_morning}/dismiss", data={"csrf_token": token.group(1), "note": " "}
    )
    assert r.status_code == 422 and "排除离岗事件须填写理由" in r.text
    session.expire_all()
    assert session.scalars(select(AbsenceEvent.status)).one() == "pending"


def test_asking_to_view_evidence_then_seeing_the_thumbnail(
    console: TestClient, client: TestClient, world: World, a_morning: int, session: Session
) -> None:
    sign_in(console, "inspector")
    page = console.get(PAGE).text
    token = TOKEN.search(page)
    form = re.search(r'action="/console/video/evidence/(\d+)/request"', page)
    assert token is not None and form is not None
    evidence_id = form.group(1)
    r = console.post(
        f"/console/video/evidence/{evidence_id}/request",
        data={"csrf_token": token.group(1), "reason": "核实离岗"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    request = session.scalars(select(ApprovalRequest)).one()
    assert r.headers["location"] == f"/console/approvals/{request.id}"
    assert (request.kind, request.target_id, request.reason) == ("evidence_view", evidence_id, "核实离岗")
    assert f"查看申请 #{request.id}（审批中）" in console.get(PAGE).text
    assert (
        client.post(f"/api/v1/approvals/{request.id}/approve", auth=world.people["approver"]).status_code
        == 200
    )
    page = console.get(PAGE).text
    assert f'<img src="/api/v1/evidence/{evidence_id}/image"' in page
    image = console.get(f"/api/v1/evidence/{evidence_id}/image")  # the session cookie signs the image in
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"


def test_bad_input_gets_a_chinese_page(console: TestClient, a_morning: int) -> None:
    sign_in(console, "county")
    assert console.get(PAGE).status_code == 404  # another jurisdiction's hall: not found
    sign_in(console, "inspector")
    bad_day = console.get(PAGE, params={"day": "2026-13-01"})
    assert bad_day.status_code == 400 and "日期格式无效" in bad_day.text
    assert console.get("/console/video/halls/NOPE").status_code == 404
    token = TOKEN.search(console.get(PAGE).text)
    assert token is not None
    for path in ("/console/video/absences/abc/confirm", "/console/video/absences/99999/confirm"):
        r = console.post(path, data={"csrf_token": token.group(1)})
        assert r.status_code == 404 and "没有编号为" in r.text, path
    nonsense = console.post(
        f"/console/video/absences/{a_morning}/approve", data={"csrf_token": token.group(1)}
    )
    assert nonsense.status_code == 404
    sign_in(console, "admin")
    refused = console.get("/console/video")
    assert refused.status_code == 403 and "无权查看视频监察信息" in refused.text
