"""The display agent: one process on the display PC, one event loop, until SIGINT/SIGTERM.

It loads its copy of the hall's data from disk first (so the pages show the last good data even
when central is down at start), serves the pages on listen_host:listen_port, follows central's feed,
fetches the catalog and info, writes its copy back, and optionally keeps Chromium on the page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn

from hall_display.browser import BrowserNotFoundError, BrowserRunner, browser_args, find_browser
from hall_display.cache import DisplayCache, FeedWriter
from hall_display.config import DisplaySettings
from hall_display.feed_client import (
    READ_TIMEOUT_SECONDS,
    SIDE_DATA_EVERY_SECONDS,
    USER_AGENT,
    FeedClient,
    SideData,
)
from hall_display.hub import FeedHub
from hall_display.server import PAGE_KEEPALIVE_SECONDS, PAGES_DIR, build_app

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 10.0


class AgentStartError(RuntimeError):
    """The agent cannot start (its cache directory, its port); the message says which."""


@dataclass(frozen=True)
class Tuning:
    """What tests shorten; the defaults are production's."""

    read_timeout_seconds: float = READ_TIMEOUT_SECONDS
    side_data_every_seconds: float = SIDE_DATA_EVERY_SECONDS
    page_keepalive_seconds: float = PAGE_KEEPALIVE_SECONDS
    pages_dir: Path = PAGES_DIR
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the agent handles SIGINT and SIGTERM itself (and may run in a thread)


class DisplayAgent:
    def __init__(self, settings: DisplaySettings, key: str, tuning: Tuning | None = None) -> None:
        self.settings = settings
        self.key = key
        self.tuning = tuning or Tuning()
        self.ready = threading.Event()  # set once the pages are served (tests wait on it)
        self.hub: FeedHub | None = None
        self.feed: FeedClient | None = None
        self.browser: BrowserRunner | None = None

    def bind(self) -> socket.socket:
        """The listening socket, opened before anything else: a port in use is said at once."""
        display = self.settings.display
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                display.listen_host, display.listen_port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0]
            sock = socket.socket(family, kind, proto)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
        except OSError as exc:
            raise AgentStartError(
                f"cannot listen on {display.listen_host}:{display.listen_port}: {exc.strerror or exc}"
            ) from exc
        sock.set_inheritable(False)
        return sock

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set; then end the pages' streams, write the copy and return."""
        self.browser = self._browser()
        cache = self._open_cache()
        hub = self.hub = self._load(cache)
        writer = FeedWriter(cache, lambda: hub.state)
        hub.on_change = writer.mark_dirty
        sock = self.bind()
        try:
            async with self._client() as client:
                server = self._page_server(hub, client)
                side = SideData(
                    client,
                    hub,
                    cache,
                    hall=self.settings.hall,
                    every_seconds=self.tuning.side_data_every_seconds,
                )
                self.feed = self._feed_client(client, hub, side)
                serving = asyncio.create_task(server.serve(sockets=[sock]), name="pages")
                writing = asyncio.create_task(writer.run(), name="feed-writer")
                workers = [
                    asyncio.create_task(self.feed.run(), name="feed"),
                    asyncio.create_task(side.run(), name="side-data"),
                    *([asyncio.create_task(self.browser.run(), name="browser")] if self.browser else []),
                ]
                try:
                    await self._until_stopped(stop, server, serving)
                finally:
                    await self._shut_down(hub, server, serving, workers, writer, writing)
        finally:
            sock.close()

    def _open_cache(self) -> DisplayCache:
        path = self.settings.display.cache_path
        try:
            return DisplayCache(path)
        except OSError as exc:
            raise AgentStartError(f"cannot create the cache directory {path}: {exc.strerror}") from exc

    def _load(self, cache: DisplayCache) -> FeedHub:
        """The hub with the copy on disk: what the pages show until central is reached."""
        hall = self.settings.hall
        hub = FeedHub(cache.load_feed(hall))
        hub.catalog = cache.load_catalog(hall)
        hub.info = cache.load_info(hall)
        _log_start(self.settings, hub)
        return hub

    def _page_server(self, hub: FeedHub, client: httpx.AsyncClient) -> uvicorn.Server:
        app = build_app(
            self.settings,
            hub,
            client,
            pages_dir=self.tuning.pages_dir,
            keepalive_seconds=self.tuning.page_keepalive_seconds,
        )
        return _Server(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=3))

    def _feed_client(self, client: httpx.AsyncClient, hub: FeedHub, side: SideData) -> FeedClient:
        return FeedClient(
            client,
            hub,
            hall=self.settings.hall,
            reconnect_max_seconds=self.settings.display.reconnect_max_seconds,
            read_timeout_seconds=self.tuning.read_timeout_seconds,
            on_connected=side.connected,
            clock=self.tuning.clock,
        )

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.settings.central_url,
            headers={"X-Device-Key": self.key, "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(CONNECT_TIMEOUT_SECONDS),
            follow_redirects=False,
        )

    def _browser(self) -> BrowserRunner | None:
        display = self.settings.display
        if not display.browser.launch:
            return None
        try:
            executable = find_browser(display.browser.executable)
        except BrowserNotFoundError as exc:
            raise AgentStartError(str(exc)) from exc
        profile = display.cache_path.resolve() / "chromium"
        return BrowserRunner(executable, browser_args(display, self.settings.browser_url, profile))

    async def _until_stopped(
        self, stop: asyncio.Event, server: uvicorn.Server, serving: asyncio.Task[None]
    ) -> None:
        while not server.started:
            if serving.done():
                serving.result()  # its error, if it failed to start
                raise AgentStartError("the page server stopped while starting")
            await asyncio.sleep(0.02)
        self.ready.set()
        logger.info("serving %s", self.settings.local_url)
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([stopping, serving], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()

    async def _shut_down(
        self,
        hub: FeedHub,
        server: uvicorn.Server,
        serving: asyncio.Task[None],
        workers: list[asyncio.Task[None]],
        writer: FeedWriter,
        writing: asyncio.Task[None],
    ) -> None:
        logger.info("stopping")
        hub.close()  # the pages' streams end, so the server can stop at once
        server.should_exit = True
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        with contextlib.suppress(Exception):
            await serving
        await writer.close(writing)
        self.ready.clear()


class AgentThread:
    """An agent on its own event loop in a thread of this process (the demo runs its hall's three
    displays so; tests run theirs so), instead of `hallwatch display run`'s own process."""

    def __init__(self, agent: DisplayAgent) -> None:
        self.agent = agent
        self.failure: BaseException | None = None  # what ended the agent, if it did not stop cleanly
        self._started = False
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        name = f"display-agent-{agent.settings.display.name}"
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self, timeout: float) -> AgentThread:
        """Start the agent and wait until it serves its pages; raises what stopped it from starting
        (AgentStartError: its port, its cache directory) or AgentStartError after `timeout` seconds."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.agent.ready.wait(0.05):
            if not self._thread.is_alive():
                self._thread.join()
                raise self.failure or AgentStartError("the display agent stopped while starting")
            if time.monotonic() >= deadline:
                self.stop(timeout)
                raise AgentStartError(f"the display agent did not start within {timeout:g} s")
        self._started = True
        return self

    def stop(self, timeout: float) -> None:
        """Stop the agent (its copy written) and wait up to `timeout` seconds for its thread."""
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the agent has ended
                self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=timeout)
        if self._thread.is_alive():
            logger.warning(
                "display agent %s did not stop within %g s", self.agent.settings.display.name, timeout
            )

    def _main(self) -> None:
        try:
            self._loop.run_until_complete(self.agent.run(self._stop))
        except BaseException as exc:  # kept for whoever started it, not lost in the thread
            self.failure = exc
            if self._started:  # a failure to start is the starter's to report
                logger.error("display agent %s stopped: %r", self.agent.settings.display.name, exc)
        finally:
            self._loop.close()


def _log_start(settings: DisplaySettings, hub: FeedHub) -> None:
    state = hub.state
    if state.has_snapshot:
        logger.info(
            "display %s (%s), hall %s: %d case(s) from the copy on disk, up to event %d, updated %s",
            settings.display.name,
            settings.display.kind,
            settings.hall,
            len(state.cases),
            state.last_event_id,
            state.updated_at.isoformat() if state.updated_at else "-",
        )
    else:
        logger.info(
            "display %s (%s), hall %s: no copy on disk yet",
            settings.display.name,
            settings.display.kind,
            settings.hall,
        )
