"""The attack of issue #13 item 1, in a real browser: a page of another system on a sibling
subdomain (same *site*, so the SameSite=Strict cookie goes along) posts a console form and a
text/plain "JSON" body to the API while an administrator is signed in. Both are refused, and nothing
is written."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.models import DeviceKey, User
from central.app import create_app
from central.core.config import Settings
from central.registry.models import Device
from tests.browser import chromium, serve, sign_in
from tests.conftest import ROOT_PASSWORD, FakeClock, make_user

SITE = "hallwatch.test"  # both hosts resolve to loopback (--host-resolver-rules below)


def sibling_page(central: str) -> FastAPI:
    """oa.hallwatch.test: forms aimed at central, as the reported attack used them."""
    page = f"""<!doctype html><html><body>
<form method="post" action="{central}/console/admin/users">
  <input name="username" value="mallory"><input name="password" value="mallory-long-passphrase-1">
  <input name="role" value="sysadmin"><input name="scope" value="*">
  <button id="form">form</button></form>
<form method="post" enctype="text/plain" action="{central}/api/v1/devices/EDGE-P/keys">
  <input name='{{"x": "' value='"}}'><button id="api">api</button></form>
</body></html>"""
    app = FastAPI()
    app.get("/", response_class=HTMLResponse)(lambda: page)
    return app


@pytest.mark.browser
def test_a_sibling_subdomain_cannot_post_with_the_admins_cookie(
    db: Engine, settings: Settings, clock: FakeClock, registry: dict[str, int], session: Session
) -> None:
    session.add(Device(code="EDGE-P", kind="edge", name="省中心边缘盒", hall_id=registry["hall"]))
    session.commit()
    make_user(db, "root", password=ROOT_PASSWORD, now=clock())
    with serve(create_app(settings, engine=db, clock=clock)) as local:
        central = local.replace("127.0.0.1", f"central.{SITE}")
        with (
            serve(sibling_page(central)) as evil_local,
            chromium(f"--host-resolver-rules=MAP *.{SITE} 127.0.0.1") as browser,
        ):
            tab = browser.new_context(locale="zh-CN").new_page()
            sign_in(tab, central, "root", ROOT_PASSWORD)
            expect(tab.get_by_role("button", name="退出")).to_be_visible()
            evil = evil_local.replace("127.0.0.1", f"oa.{SITE}")
            tab.goto(evil)
            tab.locator("#form").click()
            # the cookie went along (else: the sign-in page), the token did not
            expect(tab.get_by_role("heading", name="表单校验失败")).to_be_visible()
            assert tab.url.startswith(central)
            tab.goto(evil)
            with tab.expect_response(lambda r: r.url.endswith("/keys")) as answer:
                tab.locator("#api").click()
            assert answer.value.status == 403 and "form token" in answer.value.json()["detail"]
    session.expire_all()
    assert session.scalar(select(User).where(User.username == "mallory")) is None
    assert session.scalars(select(DeviceKey)).first() is None
