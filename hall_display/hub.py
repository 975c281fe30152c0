"""The agent's live copy of its hall: the feed state, the recent changes, central's status, the catalog
and info, and the pages listening to it.

A page that connects gets what it misses: with `Last-Event-ID: N` the changes after N from the ring of
recent changes, when the ring reaches back to N; otherwise a snapshot of the state (reason `start`
without an id, `behind` when the ring does not reach back, `ahead` when N is past the state, e.g.
after central's database was restored). Then every change as it is applied, and a `status` event
whenever central's status changes. Everything runs on the agent's event loop: no locks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from common.public_feed import AgentStatus, Catalog, HallInfo, SnapshotReason
from hall_display.state import FeedChange, FeedState, apply, touch

logger = logging.getLogger(__name__)

CentralStatus = Literal["connected", "connecting", "unreachable"]
RING_SIZE = 2000
PAGE_QUEUE_SIZE = 1000
# A keep-alive moves `updated_at` on; saving it this often is enough for the age shown after a restart.
TOUCH_SAVE_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class PageMessage:
    event: str
    data: str
    id: int | None = None


@dataclass(eq=False)
class Subscription:
    """One page's stream: what it missed, then the queue (None in it: the stream ends)."""

    initial: list[PageMessage]
    queue: asyncio.Queue[PageMessage | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=PAGE_QUEUE_SIZE)
    )


class FeedHub:
    def __init__(
        self,
        state: FeedState,
        *,
        on_change: Callable[[], None] = lambda: None,
        ring_size: int = RING_SIZE,
    ) -> None:
        self.state = state
        self.central: CentralStatus = "connecting"
        self.catalog: Catalog | None = None
        self.info: HallInfo | None = None
        self.on_change = on_change
        self._ring: deque[FeedChange] = deque(maxlen=ring_size)
        self._ring_base = state.last_event_id  # the ring holds every change after this id
        self._subscribers: set[Subscription] = set()
        self._touch_saved: datetime | None = state.updated_at

    # --- from central ----------------------------------------------------------------------

    def apply_event(
        self, name: str, event_id: str | int | None, data: str, now: datetime
    ) -> FeedChange | None:
        """Apply one event from central (FeedDataError when it breaks the contract)."""
        before = self.state.last_event_id
        self.state, change = apply(self.state, name, event_id, data, now=now)
        if change is None:
            if self.state.last_event_id != before:
                self.on_change()  # an unknown event took an id
            return None
        if change.id > before + 1 and change.name != "snapshot":
            logger.warning(
                "feed: event %d follows %d (central skipped %d)", change.id, before, change.id - before - 1
            )
        if change.name == "snapshot":
            self._ring.clear()
            self._ring_base = change.id
        else:
            if len(self._ring) == self._ring.maxlen:
                self._ring_base = self._ring[0].id
            self._ring.append(change)
        self._touch_saved = now
        self.on_change()
        self._broadcast(PageMessage(change.name, change.data, change.id))
        return change

    def touch(self, now: datetime) -> None:
        """Central is there and the data current (a keep-alive)."""
        self.state = touch(self.state, now)
        if self.state.has_snapshot and (
            self._touch_saved is None or now - self._touch_saved >= TOUCH_SAVE_EVERY
        ):
            self._touch_saved = now
            self.on_change()

    def set_central(self, status: CentralStatus) -> None:
        if status == self.central:
            return
        logger.info("central: %s → %s", self.central, status)
        self.central = status
        self._broadcast(self.status_message())

    def status(self) -> AgentStatus:
        return AgentStatus(
            central=self.central, updated_at=self.state.updated_at, last_event_id=self.state.last_event_id
        )

    def status_message(self) -> PageMessage:
        return PageMessage("status", self.status().model_dump_json())

    # --- to the pages ------------------------------------------------------------------------

    def subscribe(self, last_event_id: int | None) -> Subscription:
        subscription = Subscription([*self.catch_up(last_event_id), self.status_message()])
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def catch_up(self, last_event_id: int | None) -> list[PageMessage]:
        """What a page that has seen up to `last_event_id` (None: nothing) needs to be current."""
        if not self.state.has_snapshot:
            return []  # nothing to show yet; the status says why
        last = self.state.last_event_id
        if last_event_id is not None and self._ring_base <= last_event_id <= last:
            return [PageMessage(c.name, c.data, c.id) for c in self._ring if c.id > last_event_id]
        reason: SnapshotReason = "start"
        if last_event_id is not None:
            reason = "ahead" if last_event_id > last else "behind"
        snapshot = self.state.to_snapshot(reason)
        return [PageMessage("snapshot", snapshot.model_dump_json(), last)] if snapshot else []

    def close(self) -> None:
        """End every page's stream (the agent is stopping)."""
        for subscription in list(self._subscribers):
            self._end(subscription)
        self._subscribers.clear()

    def _broadcast(self, message: PageMessage) -> None:
        for subscription in list(self._subscribers):
            try:
                subscription.queue.put_nowait(message)
            except asyncio.QueueFull:  # a page that stopped reading: it reconnects with its last id
                logger.warning("a page fell %d messages behind: its stream ends", PAGE_QUEUE_SIZE)
                self._subscribers.discard(subscription)
                self._end(subscription)

    @staticmethod
    def _end(subscription: Subscription) -> None:
        """Drop what the page has not read (it asks again by its last id) and end its stream."""
        while not subscription.queue.empty():
            subscription.queue.get_nowait()
        subscription.queue.put_nowait(None)
