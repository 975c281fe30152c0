"""Replies a device sends up its channel (e.g. a WebRTC answer), handed to whoever waits for them.

The waiter may be on another central instance than the agent's channel, so a reply is relayed by the
notifier (`replies` topic, key the command id): in process on SQLite, one NOTIFY on PostgreSQL, which
carries the body itself (bounded by `MAX_REPLY_BYTES`); a waiter on the agent's own instance gets it
directly. Nothing is stored: a reply nobody waits for is dropped, and a command's outcome that must
not be lost still comes through the outbox.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool

from central.devices.notifier import REPLIES, Notifier, Subscription

logger = logging.getLogger(__name__)


class PendingReply:
    def __init__(self, subscription: Subscription) -> None:
        self._subscription = subscription

    async def get(self, timeout: float) -> dict[str, Any] | None:
        """The reply's body, or None when none came within `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._subscription.messages:  # a wake without data: the LISTEN connection came back
            self._subscription.wake.clear()
            if not await self._subscription.wait(deadline - loop.time()):
                return None
        body: dict[str, Any] = json.loads(self._subscription.messages[0])
        return body


class Replies:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    @contextmanager
    def expect(self, command_id: int) -> Iterator[PendingReply]:
        """Enter before the command can reach its agent (after the command's flush gave it an id and
        before its commit), then `await pending.get(timeout)`: a reply is never missed."""
        with self.notifier.subscribe(REPLIES, str(command_id)) as subscription:
            yield PendingReply(subscription)

    async def deliver(self, command_id: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        key = str(command_id)
        if self.notifier.has_subscribers(REPLIES, key):
            self.notifier.dispatch(REPLIES, key, data)  # the waiter is here: no database round trip
        elif self.notifier.postgresql:  # on another instance, perhaps: a NOTIFY, off the event loop
            await run_in_threadpool(self.notifier.publish_now, REPLIES, key, data)
        else:
            self.notifier.publish_now(REPLIES, key, data)  # in process: no I/O
        logger.debug("reply to command %d relayed", command_id)
