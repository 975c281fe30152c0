"""Headless Chromium for the live benchmarks: Debian's chromium under Playwright, WebRTC on loopback.

As the page tests run it (tests/browser.py), with loopback allowed in peer connections and camera and
microphone permission granted to the page's origin, so Chromium offers a 127.0.0.1 host candidate
instead of an mDNS name. Requests are not intercepted (a Playwright route would add its round trip
to every fetch the latency figures include); any request off the bench's origin and any page error
fails the run when the page closes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from playwright.sync_api import Page, Request, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS

logger = logging.getLogger(__name__)

WEBRTC_ARGS = ["--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required"]


class BrowserMissing(RuntimeError):
    pass


@contextmanager
def browser_page(base_url: str, extra_args: Sequence[str] = ()) -> Iterator[Page]:
    """A page of a fresh headless Chromium; `extra_args` for investigations (e.g.
    --disable-rtc-smoothness-algorithm), never needed for the figures."""
    if not CHROMIUM.exists():
        raise BrowserMissing("needs Debian's chromium: apt-get install -y chromium fonts-noto-cjk")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[*CHROMIUM_ARGS, *WEBRTC_ARGS, *extra_args],
            timeout=30_000,
        )
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 900}
        )
        context.grant_permissions(["camera", "microphone"], origin=base_url)
        outside: list[str] = []
        errors: list[str] = []

        def note(request: Request) -> None:
            if not request.url.startswith(base_url):
                outside.append(request.url)

        context.on("request", note)
        tab = context.new_page()
        tab.on("pageerror", lambda error: errors.append(str(error)))
        try:
            yield tab
        finally:
            context.close()
            browser.close()
    if outside:
        raise RuntimeError(f"the page asked for something off the bench's origin: {outside}")
    if errors:
        raise RuntimeError(f"the page failed: {errors}")
