"""The live page's TURN credentials in headless Chromium (/static/live.js): each view's
RTCPeerConnection takes the credentials the page was given (minted for its user), and once half their
lifetime has passed on the page's own clock (Playwright's, moved on), the next view first fetches
fresh ones from GET /api/v1/live/ice-servers. No agent answers (each offer ends 504) and the TURN
server is a closed port on loopback: what is checked is the configuration each view is built with.
The relay itself, with minted credentials, is tests/deploy/test_turn_relay.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, Request
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.models import User
from central.app import create_app
from central.core.config import Settings
from tests.browser import chromium, local_page, serve, sign_in
from tests.central.devices.helpers import edge
from tests.central.live.helpers import PROVINCIAL, camera, people
from tests.conftest import FakeClock, SignedIn
from tests.edge.contract import free_port

__all__ = ["edge", "people"]
LIFETIME = timedelta(minutes=10)
SECRET = "central-and-coturn-share-this-0123456789"
# Every RTCPeerConnection the page makes, with the configuration it was given (the real one runs).
RECORD_CONFIGURATIONS = """
(() => {
  const Real = window.RTCPeerConnection;
  window.configurations = [];
  window.RTCPeerConnection = function (configuration) {
    window.configurations.push(JSON.parse(JSON.stringify(configuration)));
    return new Real(configuration);
  };
  window.RTCPeerConnection.prototype = Real.prototype;
})();
"""


@pytest.fixture
def central(
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    registry: dict[str, int],
    edge: dict[str, dict[str, str]],
) -> Iterator[str]:
    turn = {
        "live_turn_urls": [f"turn:127.0.0.1:{free_port()}?transport=udp"],  # nothing listens: loopback only
        "live_turn_secret": SecretStr(SECRET),
        "live_turn_lifetime_seconds": int(LIFETIME.total_seconds()),
        "live_answer_timeout_seconds": 1.0,
    }
    app = create_app(settings.model_copy(update=turn), engine=db, clock=clock)
    try:
        with serve(app) as url:
            yield url
    finally:
        app.state.notifier.stop()


def turn_usernames(tab: Page) -> list[str]:
    configurations: list[dict[str, Any]] = tab.evaluate("() => window.configurations")
    return [server["username"] for c in configurations for server in c["iceServers"] if "username" in server]


def test_the_page_fetches_fresh_credentials_after_half_their_lifetime(
    central: str, db: Engine, session: Session, clock: FakeClock, people: dict[str, SignedIn]
) -> None:
    camera(session, device="EDGE-P", name="CAM-1", at=clock(), windows=("W01",))
    prov = session.scalar(select(User.id).where(User.username == "prov"))
    first = f"{int((clock() + LIFETIME).timestamp())}:u{prov}.page"
    asked: list[Request] = []
    with chromium() as browser, local_page(browser, central) as tab:
        tab.on("request", lambda r: asked.append(r) if "/ice-servers" in r.url else None)
        tab.add_init_script(RECORD_CONFIGURATIONS)
        tab.clock.install()
        sign_in(tab, central, "prov", people["prov"].password)
        tab.goto(f"{central}/console/live/{PROVINCIAL}")
        tab.wait_for_function("() => window.configurations.length >= 1")
        tab.locator(".live-tile").first.click()  # a new view within the lifetime's first half
        tab.wait_for_function("() => window.configurations.length >= 2")
        assert turn_usernames(tab) == [first, first], "both views with the page's credentials"
        assert asked == [], "none fetched while they are fresh"

        clock.advance(minutes=6)  # central mints from its clock...
        tab.clock.fast_forward("05:01")  # ...the page counts half of 10 minutes on its own
        with tab.expect_request(lambda r: "/api/v1/live/ice-servers" in r.url):
            tab.locator(".live-tile").first.click()
        tab.wait_for_function("() => window.configurations.length >= 3")
        fresh = f"{int((clock() + LIFETIME).timestamp())}:u{prov}.page"
        assert turn_usernames(tab)[-1] == fresh, "the next view with fresh credentials"
        assert len(asked) == 1, "fetched once"
