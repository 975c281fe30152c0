"""The agent keeps a browser on its page: started with the right switches, started again when it
exits, stopped with the agent; and real Chromium, so started, opens the page and listens to the feed."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from common.display_config import DisplayConfig
from hall_display.agent import AgentStartError
from hall_display.browser import browser_args
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.hall_display.harness import FAST, display_settings, free_port, running_agent, wait_for

DOWN = f"http://127.0.0.1:{free_port()}"


def fake_browser(tmp_path: Path, body: str) -> Path:
    """A stand-in executable: records its arguments, then does `body`."""
    script = tmp_path / "fake-chromium"
    script.write_text(f'#!/bin/sh\necho "$$ $*" >> "{tmp_path}/starts"\n{body}\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def starts(tmp_path: Path) -> list[str]:
    log = tmp_path / "starts"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def browser_extra(executable: Path, *args: str) -> str:
    listed = ", ".join(args)
    return f"    browser: {{launch: true, executable: {executable}, extra_args: [{listed}]}}\n"


def test_an_led_browser_covers_exactly_the_led_region() -> None:
    led = DisplayConfig.model_validate({"name": "LED-1", "kind": "led", "led": {"width": 192, "height": 32}})
    args = browser_args(led, "http://127.0.0.1:8091/marquee", Path("/var/d/chromium"))
    assert args[:4] == ["--kiosk", "--noerrdialogs", "--disable-infobars", "--no-first-run"]
    assert {"--window-position=0,0", "--window-size=192,32", "--user-data-dir=/var/d/chromium"} <= set(args)
    assert args[-1] == "--app=http://127.0.0.1:8091/marquee"
    tv = browser_args(DisplayConfig(name="TV-1"), "http://x/board", Path("/p"))
    assert not any(a.startswith("--window-size") for a in tv)


def test_a_browser_that_exits_is_started_again(tmp_path: Path) -> None:
    executable = fake_browser(tmp_path, "exit 3")
    settings = display_settings(tmp_path, DOWN, extra=browser_extra(executable, "--disable-gpu"))
    with running_agent(settings):
        wait_for(lambda: len(starts(tmp_path)) >= 2, "a second start")
    first = starts(tmp_path)[0].split(" ")
    assert first[1:3] == ["--kiosk", "--noerrdialogs"]
    assert first[-2:] == ["--disable-gpu", f"--app=http://127.0.0.1:{settings.display.listen_port}/board"]


def test_the_browser_stops_with_the_agent(tmp_path: Path) -> None:
    executable = fake_browser(tmp_path, "exec sleep 300")
    settings = display_settings(tmp_path, DOWN, extra=browser_extra(executable))
    with running_agent(settings):
        pid = int(wait_for(lambda: starts(tmp_path), "the browser started")[0].split(" ")[0])
        os.kill(pid, 0)  # running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert len(starts(tmp_path)) == 1


def test_a_missing_browser_stops_the_agent_at_start(tmp_path: Path) -> None:
    settings = display_settings(tmp_path, DOWN, extra=browser_extra(tmp_path / "no-such-browser"))
    with pytest.raises(AgentStartError, match="no-such-browser does not exist"), running_agent(settings):
        pass


@pytest.mark.browser
def test_real_chromium_opens_the_page_and_follows_the_feed(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium")
    pages = tmp_path / "pages"
    pages.mkdir()
    # The smallest page that listens to the agent: the real pages do the same with EventSource.
    (pages / "board.html").write_text(
        "<!doctype html><script>new EventSource('/api/v1/public/halls/510000-ZWFW/events')</script>",
        encoding="utf-8",
    )
    extra = browser_extra(CHROMIUM, "--headless=new", *CHROMIUM_ARGS)
    settings = display_settings(tmp_path, DOWN, extra=extra)
    with running_agent(settings, tuning=replace(FAST, pages_dir=pages)) as agent:
        hub = agent.agent.hub
        assert hub is not None
        wait_for(lambda: hub.subscribers >= 1, "the page's EventSource connected")
        assert agent.agent.browser is not None and agent.agent.browser.starts == 1
