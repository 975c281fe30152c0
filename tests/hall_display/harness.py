"""Run a real display agent in a test, pointing at any central (the fake one here, the real one in the
end-to-end tests), and read its page stream the way a page does.

    settings = display_settings(tmp_path, central_url)          # through the real config reader
    with running_agent(settings) as agent:                       # serving on a free loopback port
        httpx.get(f"{agent.url}/api/v1/public/halls/{agent.hall}/progress")
        with page_stream(agent) as page:
            page.until(lambda e: e.event == "status" and json.loads(e.data)["central"] == "connected")
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from hall_display.agent import AgentThread, DisplayAgent, Tuning
from hall_display.config import DisplaySettings, parse_display_config
from hall_display.sse import SseEvent, SseParser
from tests.hall_display import samples

TEST_KEY = "hwk_display_test"
# Short waits so a test sees reconnects quickly (the production values are in Tuning's defaults).
FAST = Tuning(read_timeout_seconds=5.0, side_data_every_seconds=3600.0, page_keepalive_seconds=1.0)
WAIT_SECONDS = 20.0  # the most any test waits for something that should come


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def display_settings(
    tmp_path: Path,
    central_url: str,
    *,
    kind: str = "tv",
    name: str = "TV-TEST",
    hall: str = samples.HALL,
    extra: str = "",
) -> DisplaySettings:
    """A display's settings read from a hall config file, as `hallwatch display run` reads them; the
    copy on disk under tmp_path/<name> (the same for a second agent: a restart), a free port."""
    text = (
        f"hall: {hall}\ncentral:\n  url: {central_url}\ndisplays:\n"
        f"  - name: {name}\n    kind: {kind}\n    listen_port: {free_port()}\n"
        f"    cache_dir: {tmp_path / name}\n    reconnect_max_seconds: 1\n{extra}"
    )
    return parse_display_config(text, name)


def on_new_port(settings: DisplaySettings) -> DisplaySettings:
    """The same display on another free port (a restarted agent: the old port may linger)."""
    return replace(settings, display=settings.display.model_copy(update={"listen_port": free_port()}))


@dataclass
class RunningAgent:
    agent: DisplayAgent
    settings: DisplaySettings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.display.listen_port}"

    @property
    def hall(self) -> str:
        return self.settings.hall

    def api(self, what: str) -> str:
        return f"{self.url}/api/v1/public/halls/{self.hall}/{what}"


@contextmanager
def running_agent(
    settings: DisplaySettings, *, key: str = TEST_KEY, tuning: Tuning = FAST
) -> Iterator[RunningAgent]:
    """The agent on its own event loop in a thread, as the demo runs it; stopped (its copy written) on
    exit. What stopped it from starting, or ended it, is raised here (not lost in the thread)."""
    thread = AgentThread(DisplayAgent(settings, key, tuning)).start(timeout=WAIT_SECONDS)
    try:
        yield RunningAgent(thread.agent, settings)
    finally:
        thread.stop(timeout=WAIT_SECONDS)
        assert not thread.alive, "the display agent did not stop"
        if thread.failure is not None:
            raise thread.failure


class PageStream:
    """The agent's event stream as a page reads it."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.parser = SseParser()
        self.pending: list[SseEvent] = []
        self.seen: list[SseEvent] = []
        self._chunks = response.iter_bytes()

    def next(self) -> SseEvent:
        """The next event (keep-alives skipped)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not self.pending:
            assert time.monotonic() < deadline, f"no event within {WAIT_SECONDS} s"
            self.pending.extend(self.parser.feed(next(self._chunks)))
        event = self.pending.pop(0)
        self.seen.append(event)
        return event

    def until(self, wanted: Callable[[SseEvent], bool]) -> SseEvent:
        """The next event that is `wanted`, skipping others."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            event = self.next()
            if wanted(event):
                return event
        raise AssertionError(f"not seen within {WAIT_SECONDS} s; seen: {[e.event for e in self.seen]}")

    def until_status(self, central: str) -> dict[str, Any]:
        event = self.until(lambda e: e.event == "status" and json.loads(e.data)["central"] == central)
        return dict(json.loads(event.data))


@contextmanager
def page_stream(agent: RunningAgent, last_event_id: int | str | None = None) -> Iterator[PageStream]:
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    timeout = httpx.Timeout(10.0)  # the agent sends a keep-alive every second in tests
    with (
        httpx.Client(timeout=timeout) as client,
        client.stream("GET", agent.api("events"), headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield PageStream(response)


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    """Poll `condition` until it is true-ish (no timing is asserted: only that it happens)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {WAIT_SECONDS} s")
