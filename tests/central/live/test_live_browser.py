"""The live page in headless Chromium (Debian's, under Playwright): the browser's own WebRTC receives
the real edge agent's generated camera through central — offer posted to the API, relayed over the
agent's channel, answered — and decodes frames in a tile; a click focuses it (the full-size profile);
an offline camera shows 摄像机离线. Loopback only: no ICE servers, Chromium allowed loopback candidates
and, with camera permission granted, offering 127.0.0.1 instead of an mDNS name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page
from sqlalchemy import Engine

from central.core.db import make_session_factory
from tests.browser import chromium, local_page, sign_in
from tests.central.devices.helpers import edge
from tests.central.live.helpers import camera, people
from tests.central.live.test_live_e2e import (
    LIVE_ON,
    WAIT_S,
    agent,
    camera_online_at_central,
    central,
    real_time,
)
from tests.conftest import SignedIn
from tests.edge.contract import wait_until

__all__ = ["central", "edge", "people", "real_time"]
WEBRTC_ARGS = ("--allow-loopback-in-peer-connection",)


def frames_decoded(tab: Page) -> int:
    value = tab.locator(".live-tile").first.get_attribute("data-frames-decoded")
    return int(value or 0)


def test_the_live_page_plays_the_agents_camera_in_chromium_and_focuses_a_window(
    tmp_path: Path, central: str, db: Engine, edge: dict[str, dict[str, str]], people: dict[str, SignedIn]
) -> None:
    with agent(tmp_path, central, edge["EDGE-P"]["X-Device-Key"], live=LIVE_ON) as running:
        wait_until(lambda: camera_online_at_central(db), what="the camera online at central", timeout=WAIT_S)
        with make_session_factory(db)() as session:  # a second camera of the hall, reported offline
            camera(session, device="EDGE-P", name="CAM-DARK", at=datetime.now(UTC), online=False)
            session.commit()
        with (
            chromium(*WEBRTC_ARGS) as browser,
            local_page(browser, central, permissions=["camera", "microphone"]) as tab,
        ):
            sign_in(tab, central, "prov", people["prov"].password)
            tab.goto(f"{central}/console/live/510000-ZWFW")
            tab.wait_for_function(
                "() => Number(document.querySelector('.live-tile').dataset.framesDecoded || 0) >= 3",
                timeout=WAIT_S * 1000,
            )
            assert running.live is not None and running.live.viewers()
            tab.locator(".live-tile").first.click()
            tab.wait_for_function(
                "() => document.querySelector('.live-tile').classList.contains('live-focus')"
                " && (document.querySelector('.live-state').textContent || '').startsWith('放大')",
                timeout=WAIT_S * 1000,
            )
            size = tab.evaluate(
                "() => [document.querySelector('video').videoWidth, document.querySelector('video').videoHeight]"
            )
            assert size[0] >= 320
