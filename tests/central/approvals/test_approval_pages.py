"""An approval as a person does it (SC-18): the real app under uvicorn, headless Chromium, a real
sign-in through /console/login. A county post user asks (through the API) to void a case event; a
provincial inspector opens the inbox, approves with a note, and the case timeline shows 已作废.

Needs Debian's `chromium` (and `fonts-noto-cjk` so Chinese renders in screenshots).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from central.app import create_app
from tests.browser import chromium, local_page, serve, sign_in
from tests.central.approvals.helpers import (
    EVENTS_URL,
    PASSWORD,
    URL,
    add_county_department,
    add_people,
    county_ev,
)
from tests.conftest import make_user

pytestmark = pytest.mark.browser


def _token(url: str, username: str) -> dict[str, str]:
    r = httpx.post(f"{url}/api/v1/auth/token", data={"username": username, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def live(db, settings, clock, registry, session) -> Iterator[tuple[str, int]]:
    """The app on loopback with case K1 and a pending void of its last event (asked by a county clerk)."""
    add_county_department(session, registry["county_hall"])
    add_people(db)
    make_user(db, "root", password=PASSWORD, now=clock())
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        events = [
            county_ev("k1", "K1", "received", "2026-11-02T09:00:00+08:00"),
            county_ev("k2", "K1", "accepted", "2026-11-02T09:30:00+08:00"),
            county_ev("k3", "K1", "undertaken", "2026-11-03T10:00:00+08:00"),
        ]
        r = httpx.post(f"{url}{EVENTS_URL}", json=events, headers=_token(url, "root"), timeout=30)
        assert r.status_code == 200, r.text
        body = {"kind": "case_event_void", "target": "k3", "reason": "重复录入，申请作废"}
        r = httpx.post(f"{url}{URL}", json=body, headers=_token(url, "clerk"), timeout=30)
        assert r.status_code == 201, r.text
        yield url, int(r.json()["id"])


def test_a_provincial_inspector_approves_from_the_inbox(live: tuple[str, int]) -> None:
    url, approval_id = live
    with chromium() as browser, local_page(browser, url) as tab:
        tab.goto(f"{url}/console/approvals")  # not signed in: the sign-in page, then back here
        expect(tab).to_have_url(f"{url}/console/login?next=%2Fconsole%2Fapprovals")
        sign_in(tab, url, "prov", PASSWORD, navigate=False)
        expect(tab).to_have_url(f"{url}/console/approvals")

        inbox = tab.locator("#inbox")
        row = inbox.locator(f"tr[data-approval-id='{approval_id}']")
        expect(row).to_contain_text("作废办件事件")
        expect(row).to_contain_text("clerk")
        expect(row).to_contain_text("重复录入")
        expect(row).to_contain_text("省级审批")
        row.get_by_role("link", name=f"#{approval_id}").click()

        expect(tab.locator("#approval-status")).to_have_text("待审批")
        tab.get_by_label("审批意见（批准时可不填）").fill("经核实为重复录入，同意作废")
        tab.get_by_role("button", name="批准").click()
        expect(tab.locator("#approval-status")).to_have_text("已批准")
        expect(tab.locator("#decision-note")).to_have_text("经核实为重复录入，同意作废")
        expect(tab.get_by_role("status")).to_contain_text("已批准")

        tab.get_by_role("link", name="K1").click()
        voided = tab.locator("li[data-event-id='k3']")
        expect(voided).to_contain_text("已作废")
        expect(voided).to_contain_text(f"#{approval_id}")
        expect(tab.locator("li[data-event-id='k2']")).not_to_contain_text("已作废")
        expect(tab.locator(".facts .status")).to_have_text("已受理")

        tab.goto(f"{url}/console/approvals")
        expect(tab.get_by_text("没有待您审批的申请。")).to_be_visible()
