"""The soak's hall screens: raw asyncio connections on uvloop (as bench/displays.py: thousands of them
must cost this process little), each holding `GET /api/v1/public/halls/{hall}/events` through the halls'
link with its own display key, over TLS, and noting when each case first reaches it.

A screen reconnects as the real display agent does (hall_display/feed_client.py: its `Backoff`, jittered
doubling waits from 1 s up to the display config's `reconnect_max_seconds`, started over once central
talks again) with `Last-Event-ID`, so what was published meanwhile arrives once, after the gap; a
snapshot (sent when central cannot resume it) counts for the cases it lists. The HTTP framing is h11's (the stream is
chunked by nginx, and a chunk boundary may fall inside a message).
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
from typing import cast

import h11

from bench.soak_plan import ErrorKind, HallPlan
from bench.soak_tally import Tally, error_kind
from common.display_config import DisplayConfig
from hall_display.feed_client import Backoff

logger = logging.getLogger(__name__)

RECONNECT_MAX_S = DisplayConfig.model_fields["reconnect_max_seconds"].default
CASE_NO = re.compile(r'"case_no":"([^"]+)"')
EVENTS_PATH = "/api/v1/public/halls/{hall}/events"
OPEN_WAIT_S = 10.0


class Screens:
    """Every screen's arrivals (hall → case number → screen index → first seen) and counters."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.arrivals: dict[str, dict[str, dict[int, float]]] = {}
        self.connected = 0
        self.reconnects = 0
        self.snapshots = 0
        self.stopping = False
        self.reopening: set[asyncio.Task[None]] = set()  # held here: the loop keeps only weak references


class Screen(asyncio.Protocol):
    """One hall screen's stream; `open` it once, it keeps itself connected until the soak stops."""

    def __init__(
        self, screens: Screens, index: int, hall: HallPlan, key: str, port: int, context: ssl.SSLContext
    ) -> None:
        self.screens, self.index, self.hall, self.key = screens, index, hall, key
        self.port, self.context = port, context
        self.last_id: int | None = None
        self.transport: asyncio.Transport | None = None
        self._http = h11.Connection(h11.CLIENT)
        self._buffer = b""
        self._live = False
        self.backoff = Backoff(most=RECONNECT_MAX_S)
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        screens.arrivals.setdefault(hall.code, {})

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._http = h11.Connection(h11.CLIENT)
        self._buffer, self._live = b"", False
        try:
            await loop.create_connection(
                lambda: self, "127.0.0.1", self.port, ssl=self.context, ssl_handshake_timeout=30
            )
        except (OSError, TimeoutError) as exc:
            self._failed("transport", f"connect: {type(exc).__name__}: {exc}")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses
        headers = [
            ("Host", f"127.0.0.1:{self.port}"),
            ("Accept", "text/event-stream"),
            ("X-Device-Key", self.key),
        ]
        if self.last_id is not None:
            headers.append(("Last-Event-ID", str(self.last_id)))
        request = h11.Request(method="GET", target=EVENTS_PATH.format(hall=self.hall.code), headers=headers)
        self.transport.write(self._http.send(request) + self._http.send(h11.EndOfMessage()))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self._http.receive_data(data)
        while True:
            try:
                event = self._http.next_event()
            except h11.RemoteProtocolError as exc:
                self._drop("transport", f"bad HTTP from the proxy: {exc}")
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                if event.status_code != 200:
                    self._drop(
                        error_kind(event.status_code), f"{self.hall.code}: answered {event.status_code}"
                    )
                    return
                self._live = True
                self.screens.connected += 1
                if not self.opened.done():
                    self.opened.set_result(None)
            elif isinstance(event, h11.Data):
                self.backoff.reset()  # central talks: a later drop starts the waits over
                self._messages(bytes(event.data), now)
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                self._drop("transport", f"{self.hall.code}: the stream ended")
                return

    def _messages(self, data: bytes, now: float) -> None:
        self._buffer += data
        *complete, self._buffer = self._buffer.split(b"\n\n")
        seen = self.screens.arrivals[self.hall.code]
        for message in complete:
            fields = dict(line.split(": ", 1) for line in message.decode().split("\n") if ": " in line[1:])
            if "id" in fields:
                self.last_id = int(fields["id"])
            name, body = fields.get("event"), fields.get("data", "")
            if name == "snapshot" and '"reason":"start"' not in body:
                self.screens.snapshots += 1  # central could not resume this screen after its last change
            if name in ("case", "snapshot"):
                for case_no in CASE_NO.findall(body):
                    seen.setdefault(case_no, {}).setdefault(self.index, now)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:  # not dropped by us already
            self.transport = None
            self._gone("transport", f"{self.hall.code}: connection lost ({exc or 'closed'})")

    def _drop(self, kind: ErrorKind, detail: str) -> None:
        transport, self.transport = self.transport, None
        if transport is not None:
            transport.abort()
        self._gone(kind, detail)

    def _gone(self, kind: ErrorKind, detail: str) -> None:
        if self._live:
            self.screens.connected -= 1
            self._live = False
        self._failed(kind, detail)

    def _failed(self, kind: ErrorKind, detail: str) -> None:
        if self.screens.stopping:
            return
        self.screens.tally.error("display", kind, detail)
        self.screens.reconnects += 1
        asyncio.get_running_loop().call_later(self.backoff.next(), self._reopen)

    def _reopen(self) -> None:
        if not self.screens.stopping:
            task = asyncio.ensure_future(self.open())
            self.screens.reopening.add(task)
            task.add_done_callback(self.screens.reopening.discard)

    def close(self) -> None:
        transport, self.transport = self.transport, None
        if transport is not None:
            transport.abort()


async def open_screens(
    screens: Screens, halls: list[HallPlan], port: int, context: ssl.SSLContext, *, batch: int = 100
) -> list[Screen]:
    """Every hall's screens, opened `batch` at a time, the next batch once each of these has its first
    answer or OPEN_WAIT_S have passed (a screen not answered yet keeps trying by itself)."""
    pairs = [(hall, key) for hall in halls for key in hall.display_keys]
    made = [Screen(screens, index, hall, key, port, context) for index, (hall, key) in enumerate(pairs)]
    for start in range(0, len(made), batch):
        group = made[start : start + batch]
        await asyncio.gather(*(screen.open() for screen in group))
        await asyncio.wait([s.opened for s in group], timeout=OPEN_WAIT_S)
    return made
