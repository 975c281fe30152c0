"""Reviewing findings on the patrol page (issue 15 item 5): each finding shows its status, 确认 and
不予认定 (with a reason field) for those who may review, and, once confirmed, links to its signal and
to the camera's absence record. The rows are stored directly (an ended patrol: no live video); the
recording of findings through the live page is test_patrol_browser.py's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.models import User
from central.app import create_app
from central.core.config import Settings
from central.patrols.models import PatrolFinding, PatrolSession
from central.registry.models import Device, ServiceWindow
from central.signals.models import Signal
from central.video.models import AbsenceEvent
from tests.browser import chromium, local_page, serve, sign_in
from tests.central.devices.helpers import edge
from tests.central.live.helpers import PROVINCIAL, people
from tests.conftest import FakeClock, SignedIn, with_form_token

__all__ = ["edge", "people"]


def stored_patrol(session: Session, clock: FakeClock, *, inspector: str = "prov") -> tuple[int, list[int]]:
    """An ended, complete patrol of the provincial hall by `inspector` with two pending findings at
    W01 (离岗 at 09:40, 玩手机 at 09:45), and the camera's absence of W01 from 09:35 to 09:50."""
    user = session.scalar(select(User.id).where(User.username == inspector))
    window = session.scalar(select(ServiceWindow).where(ServiceWindow.code == "W01"))
    device = session.scalar(select(Device.id).where(Device.code == "EDGE-P"))
    assert user is not None and window is not None and device is not None
    now = clock()
    patrol = PatrolSession(
        hall_id=window.hall_id,
        inspector_id=user,
        day=date(2026, 11, 27),
        started_at=now - timedelta(minutes=30),
        ended_at=now - timedelta(minutes=5),
        state="complete",
        watched_seconds=600.0,
        judged_at=now - timedelta(minutes=4),
    )
    session.add(patrol)
    session.flush()
    findings = [
        PatrolFinding(
            session_id=patrol.id,
            hall_id=window.hall_id,
            window_id=window.id,
            camera="CAM-1",
            category=category,
            note=note,
            at=now - timedelta(minutes=minutes),
            inspector_id=user,
            capture=f"finding-page-{category}",
            clip_seconds=10,
        )
        for category, note, minutes in (("absent", "座位无人", 20), ("phone", "低头玩手机", 15))
    ]
    session.add_all(findings)
    session.add(
        AbsenceEvent(
            hall_id=window.hall_id,
            window_id=window.id,
            department_id=window.department_id,
            device_id=device,
            camera="CAM-1",
            started_at=now - timedelta(minutes=25),
            ended_at=now - timedelta(minutes=10),
            status="pending",
            received_at=now,
            updated_at=now,
        )
    )
    session.commit()
    return patrol.id, [finding.id for finding in findings]


@pytest.fixture
def console(
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    people: dict[str, SignedIn],
) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=db, clock=clock)) as client:
        yield client


def console_sign_in(client: TestClient, who: SignedIn) -> TestClient:
    client.cookies.clear()
    response = client.post(
        "/console/login", data={"username": who.username, "password": who.password}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return with_form_token(client)


def test_the_patrol_page_shows_review_buttons_to_reviewers_and_the_decision_after(
    console: TestClient, people: dict[str, SignedIn], session: Session, clock: FakeClock
) -> None:
    patrol, (absent, phone) = stored_patrol(session, clock)
    page = f"/console/patrols/sessions/{patrol}"
    html = console_sign_in(console, people["prov2"]).get(page).text  # a supervisor of the province
    assert html.count('class="finding-review-form"') == 2 and html.count(">待认定</td>") == 2
    assert f'data-confirm-url="/api/v1/patrols/findings/{absent}/confirm"' in html
    assert ">不予认定</button>" in html and 'placeholder="说明（不予认定须填写理由）"' in html
    assert '<script src="/static/finding_review.js" defer></script>' in html
    # confirming with the console's cookie (and its form token), as the page's script does
    confirmed = console.post(f"/api/v1/patrols/findings/{absent}/confirm", json={"note": None})
    assert confirmed.status_code == 200, confirmed.text
    signal = session.scalar(select(Signal.id))
    absence = session.scalar(select(AbsenceEvent.id))
    html = console.get(page).text
    assert html.count('class="finding-review-form"') == 1 and ">已确认</td>" in html
    assert f'<a href="/console/signals/{signal}">纠错信号 #{signal}</a>' in html
    assert f'href="/console/video/halls/{PROVINCIAL}?day=2026-11-27#absence-{absence}"' in html
    # without the form token the cookie alone cannot review (CSRF)
    del console.headers["X-CSRF-Token"]
    assert console.post(f"/api/v1/patrols/findings/{phone}/dismiss", json={"note": "误记"}).status_code == 403


def test_the_county_cannot_see_the_patrol_and_a_ledger_row_links_to_it(
    console: TestClient, people: dict[str, SignedIn], session: Session, clock: FakeClock
) -> None:
    patrol, _ = stored_patrol(session, clock)
    assert (
        console_sign_in(console, people["county"]).get(f"/console/patrols/sessions/{patrol}").status_code
        == 404
    )
    html = console_sign_in(console, people["prov"]).get("/console/ledger").text
    assert len(re.findall(r'data-kind="finding" data-id="\d+"', html)) == 2
    assert f'<a href="/console/patrols/sessions/{patrol}">视频巡查发现：离岗</a>' in html
    assert "1号窗口（W01）· 监察员 prov" in html


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.mark.browser
def test_confirm_and_dismiss_on_the_patrol_page_in_chromium(
    browser: Browser,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    session: Session,
    edge: dict[str, dict[str, str]],
    people: dict[str, SignedIn],
    tmp_path: Path,
) -> None:
    patrol, (absent, phone) = stored_patrol(session, clock)
    with serve(create_app(settings, engine=db, clock=clock)) as url, local_page(browser, url) as tab:
        sign_in(tab, url, "prov", people["prov"].password)
        tab.wait_for_url("**/console/cases")
        tab.goto(f"{url}/console/patrols/sessions/{patrol}")
        absent_row, phone_row = (
            tab.locator(f'tr[data-finding="{absent}"]'),
            tab.locator(f'tr[data-finding="{phone}"]'),
        )
        assert absent_row.locator(".finding-state").inner_text() == "待认定"

        # 不予认定 without a reason is stopped on the page; with one it is recorded
        phone_row.get_by_role("button", name="不予认定").click()
        assert phone_row.get_by_role("status").inner_text() == "不予认定须填写理由。"
        phone_row.get_by_label("认定说明（不予认定须填写理由）").fill("回放显示在查询办件")
        phone_row.get_by_role("button", name="不予认定").click()
        tab.locator(f'tr[data-finding="{phone}"][data-status="dismissed"]').wait_for()
        assert phone_row.locator(".finding-state").inner_text() == "不予认定"
        assert "理由：回放显示在查询办件" in phone_row.inner_text()

        absent_row.get_by_label("认定说明（不予认定须填写理由）").fill("回放确认擅离岗位")
        absent_row.get_by_role("button", name="确认").click()
        signal_link = absent_row.get_by_role("link", name=re.compile(r"纠错信号 #\d+"))
        signal_link.wait_for()
        assert absent_row.locator(".finding-state").inner_text() == "已确认"
        assert absent_row.get_by_role("link", name=re.compile(r"摄像机离岗记录 #\d+")).is_visible()

        tab.screenshot(path=str(tmp_path / "patrol-findings-reviewed.png"), full_page=True)
        signal_link.click()
        tab.wait_for_url("**/console/signals/*")
        assert "视频巡查发现违反工作纪律" in tab.content()

    session.expire_all()
    statuses = {row.id: row.status for row in session.execute(select(PatrolFinding.id, PatrolFinding.status))}
    assert statuses == {absent: "confirmed", phone: "dismissed"}
    assert len(session.scalars(select(Signal)).all()) == 1
