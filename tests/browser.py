"""Shared pieces for page tests: the real app under uvicorn on loopback, and headless Chromium.

Needs Debian's `chromium` (and `fonts-noto-cjk` so Chinese renders in screenshots).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ACTION_TIMEOUT_MS = 10_000


@contextmanager
def serve(app: FastAPI, port: int = 0, **options: Any) -> Iterator[str]:
    """Run `app` under real uvicorn on loopback (a free port unless given: serving again on the same
    port after a stop is how tests end an outage); `options` are more of uvicorn's settings (e.g. its
    WebSocket keepalive). Yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2, **options)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextmanager
def chromium(*extra_args: str) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = "needs Debian's chromium: apt-get install -y chromium fonts-noto-cjk (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a missing browser there is a broken setup, not a skip
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args], timeout=30_000
        )
        yield browser
        browser.close()


def shot_per_database(page: Page, folder: Path, database: str, name: str) -> None:
    """A full-page screenshot under `folder`, named by the database the test ran on."""
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{database}-{name}.png"), full_page=True)


@contextmanager
def local_page(
    browser: Browser,
    base_url: str,
    *,
    permissions: Sequence[str] = (),
    viewport: tuple[int, int] = (1400, 900),
    mobile: bool = False,
) -> Iterator[Page]:
    """A fresh zh-CN page; any JS error or request off the machine fails the test. `permissions`
    (e.g. camera, microphone for WebRTC: granted, Chromium offers its real host addresses instead of
    mDNS names) are granted to the page's origin. `viewport` and `mobile` (touch, a phone's scaling)
    make it a phone's."""
    context: BrowserContext = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": viewport[0], "height": viewport[1]},
        is_mobile=mobile,
        has_touch=mobile,
    )
    if permissions:
        context.grant_permissions(list(permissions), origin=base_url)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
    outside: list[str] = []

    def only_local(route: Route) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    tab = context.new_page()
    js_errors: list[str] = []
    tab.on("pageerror", lambda error: js_errors.append(str(error)))
    refused_by_csp: list[str] = []  # the page did something its Content-Security-Policy forbids

    def csp_violation(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            refused_by_csp.append(message.text)

    tab.on("console", csp_violation)
    try:
        yield tab
    finally:
        context.close()
    assert not js_errors, js_errors
    assert not refused_by_csp, refused_by_csp
    assert not outside, f"pages asked for outside resources: {outside}"


def sign_in(tab: Page, base_url: str, username: str, password: str, *, navigate: bool = True) -> None:
    if navigate:
        tab.goto(f"{base_url}/console/login")
    tab.get_by_label("用户名").fill(username)
    tab.get_by_label("密码").fill(password)
    tab.get_by_role("button", name="登录").click()
