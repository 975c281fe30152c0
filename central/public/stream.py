"""The Server-Sent Events answer of a hall's feed: a pure ASGI response, so that a change costs each
watcher one write of bytes made once for all (no per-message framework machinery, no queue).

A watcher starts from a snapshot, or resumes after its `Last-Event-ID`: from this process's ring, or
from the stored changes, or — too far behind, or ahead of this database — from a snapshot that says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from central.public.hub import KEEPALIVE, FeedHub, HallFeed, encode
from common.public_feed import SnapshotReason

logger = logging.getLogger(__name__)

_Write = Callable[[bytes], Awaitable[None]]
RETRY = b"retry: 3000\n\n"  # EventSource reconnects after 3 s


class FeedStream(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        *,
        hub: FeedHub,
        hall_id: int,
        last_event_id: int | None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(
            headers={"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"}, background=background
        )
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]  # open-ended
        self._hub, self._hall_id, self._last_event_id = hub, hall_id, last_event_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        feed = await self._hub.join(self._hall_id)
        task = asyncio.current_task()
        assert task is not None
        gone = asyncio.Event()

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            task.cancel()  # the stream waits on the feed, not on the socket: stop it from here

        watcher = asyncio.create_task(watch_disconnect())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await self._stream(feed, send)
        except asyncio.CancelledError:
            # The watcher left, or the server is stopping and its grace ran out (hundreds of screens
            # would each log a traceback): either way the stream simply ends; screens reconnect.
            if gone.is_set():
                task.uncancel()
            logger.debug(
                "stream of hall %s ended (%s)", self._hall_id, "left" if gone.is_set() else "shutdown"
            )
        finally:
            watcher.cancel()
            self._hub.leave(feed)
        if self.background is not None:
            await self.background()

    async def _stream(self, feed: HallFeed, send: Send) -> None:
        async def write(body: bytes) -> None:
            await send({"type": "http.response.body", "body": body, "more_body": True})

        await write(RETRY)
        cursor = await self._start(feed, write)
        while True:
            changed, keepalive_round = feed.changed, feed.keepalive_round
            if feed.last_seq > cursor:
                chunk, head = feed.after(cursor), feed.last_seq
                if chunk is None:  # fell behind the ring while its socket was slow
                    cursor = await _send_snapshot(feed, write, "behind")
                else:
                    cursor = head
                    await write(chunk)
                continue
            await changed.wait()
            if feed.keepalive_round != keepalive_round and feed.last_seq <= cursor:
                await write(KEEPALIVE)

    async def _start(self, feed: HallFeed, write: _Write) -> int:
        last = self._last_event_id
        if last is None:
            return await _send_snapshot(feed, write, "start")
        if last > feed.last_seq:
            await feed.refresh()  # another instance may have numbered it a moment ago
            if last > feed.last_seq:
                return await _send_snapshot(feed, write, "ahead")
        if feed.after(last) is not None:
            return last
        stored = await feed.stored_after(last)
        if stored.first_kept is None or stored.first_kept > last + 1:
            return await _send_snapshot(feed, write, "behind")
        if stored.entries:
            await write(b"".join(encode(seq, name, data) for seq, name, data in stored.entries))
            return stored.entries[-1][0]
        return last


async def _send_snapshot(feed: HallFeed, write: _Write, reason: SnapshotReason) -> int:
    parts = await feed.snapshot()
    await write(encode(parts.seq, "snapshot", parts.json(reason)))
    return parts.seq
