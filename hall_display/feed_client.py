"""Central → display agent: the hall's feed (Server-Sent Events), and its catalog and info.

`FeedClient.run` keeps one stream open to `GET {central}/api/v1/public/halls/{hall}/events`, with
the device key and, when the agent has data, `Last-Event-ID` (central then sends every change after
it exactly once; a repeat is ignored anyway). A dropped stream, a read timeout (no keep-alive within
`read_timeout_seconds`) or a refused connection: reconnect with jittered, doubling waits up to
`reconnect_max_seconds`. An event that breaks the contract: start over with a fresh snapshot (no
Last-Event-ID). A refused key (401/403): said clearly in the log, retried slowly (an administrator
may issue the key meanwhile). Throttled (429 or 503 with Retry-After): it waits as long as asked.

`SideData.run` fetches the catalog and the hall's info when the stream connects and every hour;
when central fails the cached copy stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from common.public_feed import Catalog, HallInfo
from hall_display.cache import DisplayCache
from hall_display.hub import FeedHub
from hall_display.sse import SseError, SseParser
from hall_display.state import FeedDataError

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
KEEPALIVE_SECONDS = 15.0  # central's keep-alive comment interval (public_feed: keepalive_seconds)
READ_TIMEOUT_SECONDS = 3 * KEEPALIVE_SECONDS
FIRST_RETRY_SECONDS = 1.0
SIDE_DATA_EVERY_SECONDS = 3600.0
MAX_RETRY_AFTER_SECONDS = 600.0
USER_AGENT = "hallwatch-display"


def feed_path(hall: str) -> str:
    return f"/api/v1/public/halls/{hall}/events"


class Outcome(Enum):
    DROPPED = "dropped"  # was connected: the stream ended or broke
    FAILED = "failed"  # never connected (unreachable, an error answer)
    REFUSED = "refused"  # the device key was refused
    BAD_DATA = "bad_data"  # an event broke the contract


@dataclass
class Backoff:
    """Doubling waits from `first` to `most`, each jittered to 50–100 % so displays spread out."""

    most: float
    first: float = FIRST_RETRY_SECONDS
    attempt: int = 0

    def next(self) -> float:
        delay = min(self.most, self.first * 2.0 ** min(self.attempt, 30))
        self.attempt += 1
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.attempt = 0


class FeedClient:
    def __init__(
        self,
        client: httpx.AsyncClient,
        hub: FeedHub,
        *,
        hall: str,
        reconnect_max_seconds: float,
        read_timeout_seconds: float = READ_TIMEOUT_SECONDS,
        on_connected: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.hub = hub
        self.hall = hall
        self.read_timeout_seconds = read_timeout_seconds
        self.on_connected = on_connected
        self.clock = clock
        self.backoff = Backoff(most=reconnect_max_seconds)
        self.connections = 0  # streams opened, for the curious (tests, logs)
        self._fresh = False  # the next connection asks for a snapshot (no Last-Event-ID)
        self._refused = False
        self._retry_after = 0.0

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            outcome = await self.connect_once()
            talked = outcome in (Outcome.DROPPED, Outcome.BAD_DATA)  # central was there a moment ago
            self.hub.set_central("connecting" if talked else "unreachable")
            delay = self.backoff.most if outcome is Outcome.REFUSED else self.backoff.next()
            await asyncio.sleep(max(delay, self._retry_after))
            self._retry_after = 0.0

    async def connect_once(self) -> Outcome:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.hub.state.has_snapshot and not self._fresh:
            headers["Last-Event-ID"] = str(self.hub.state.last_event_id)
        connected = False
        timeout = httpx.Timeout(self.client.timeout.connect, read=self.read_timeout_seconds)
        try:
            async with self.client.stream(
                "GET", feed_path(self.hall), headers=headers, timeout=timeout
            ) as response:
                outcome = self._check_answer(response)
                if outcome is not None:
                    return outcome
                connected = True
                self._on_open()
                await self._read(response)
            logger.warning("feed: central ended the stream")
            return Outcome.DROPPED
        except (FeedDataError, SseError) as exc:
            logger.error(
                "feed: central sent what this agent cannot read (%s): starting over from a snapshot", exc
            )
            self._fresh = True
            return Outcome.BAD_DATA
        except httpx.TimeoutException:
            what = "no keep-alive from central" if connected else "central did not answer"
            logger.warning("feed: %s within the timeout", what)
        except httpx.HTTPError as exc:
            logger.warning(
                "feed: %s %s", "stream broke:" if connected else "cannot reach central:", _reason(exc)
            )
        return Outcome.DROPPED if connected else Outcome.FAILED

    def _check_answer(self, response: httpx.Response) -> Outcome | None:
        status = response.status_code
        if status in (401, 403):
            if not self._refused:
                logger.error(
                    "feed: central refused this display's device key (HTTP %d): issue a key for this "
                    "display under 设备密钥 (device keys) and give it in key_env or key_file; retrying "
                    "every %.0f s",
                    status,
                    self.backoff.most,
                )
            self._refused = True
            return Outcome.REFUSED
        content_type = response.headers.get("content-type", "")
        retry_after = response.headers.get("retry-after", "")
        if status in (429, 503) and retry_after.isascii() and retry_after.isdigit():
            self._retry_after = min(float(retry_after), MAX_RETRY_AFTER_SECONDS)  # throttled: as asked
        if status != 200 or not content_type.startswith("text/event-stream"):
            logger.warning(
                "feed: central answered HTTP %d (%s), not an event stream", status, content_type or "-"
            )
            return Outcome.FAILED
        return None

    def _on_open(self) -> None:
        if self._refused:
            logger.info("feed: central accepts the device key now")
        self._refused = False
        self.connections += 1
        self.hub.set_central("connected")
        self.on_connected()

    async def _read(self, response: httpx.Response) -> None:
        parser = SseParser()
        async for chunk in response.aiter_bytes():
            if self.backoff.attempt:
                self.backoff.reset()  # central talks: a later drop starts the waits over
            now = self.clock()
            for event in parser.feed(chunk):
                self.hub.apply_event(event.event, event.id, event.data, now)
                if event.event == "snapshot":
                    self._fresh = False
            self.hub.touch(now)


def _reason(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class SideData:
    """The catalog and the hall's info: fetched when the feed connects and every hour."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        hub: FeedHub,
        cache: DisplayCache,
        *,
        hall: str,
        every_seconds: float = SIDE_DATA_EVERY_SECONDS,
    ) -> None:
        self.client = client
        self.hub = hub
        self.cache = cache
        self.hall = hall
        self.every_seconds = every_seconds
        self._due = asyncio.Event()

    def connected(self) -> None:
        self._due.set()

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), self.every_seconds)
            self._due.clear()
            await self.refresh()

    async def refresh(self) -> None:
        catalog = await self._fetch("catalog", Catalog)
        if catalog is not None:
            self.hub.catalog = catalog
            await asyncio.to_thread(self._save, self.cache.save_catalog, catalog)
        info = await self._fetch("info", HallInfo)
        if info is not None:
            self.hub.info = info
            await asyncio.to_thread(self._save, self.cache.save_info, info)

    async def _fetch(self, what: str, model: type[M]) -> M | None:
        path = f"/api/v1/public/halls/{self.hall}/{what}"
        try:
            response = await self.client.get(path)
        except httpx.HTTPError as exc:
            logger.warning("%s: cannot reach central (%s); keeping the cached copy", what, _reason(exc))
            return None
        if response.status_code != 200:
            logger.warning(
                "%s: central answered HTTP %d; keeping the cached copy", what, response.status_code
            )
            return None
        try:
            value = model.model_validate_json(response.content)
        except ValidationError as exc:
            logger.warning(
                "%s: central's answer is not a %s (%s); keeping the cached copy",
                what,
                model.__name__,
                exc.errors()[0]["msg"],
            )
            return None
        code = getattr(getattr(value, "hall", None), "code", self.hall)
        if code != self.hall:
            logger.warning("%s: central answered for hall %s, not %s; not used", what, code, self.hall)
            return None
        return value

    @staticmethod
    def _save(save: Callable[[M], None], value: M) -> None:
        try:
            save(value)
        except OSError as exc:
            logger.error("cannot write the cached copy: %s", exc)
