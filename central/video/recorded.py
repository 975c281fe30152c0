"""Observations analysed from a recording (`origin: recording`, hallwatch edge analyse) never count as
live and never duplicate what the live camera already reported.

A live camera reports every clock hour it watched a window as a visitor count part (zero visits
included), so "the live camera reported this hour" is a live visitor count row for the window and
hour. A recorded presence interval, absence, visitor count or evidence item falling in such an hour
is answered "duplicate" and not stored; in an hour no live camera watched (the camera or the agent
was down, a hall without the agent yet) it is stored, marked as recorded. Recorded items never move
the live window→camera mapping or the live seat states. The live counts of the current hour arrive
when the hour ends: a recording of the current hour analysed before then is stored beside them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from central.core.clock import to_utc
from central.devices.service import ItemOutcome
from central.registry.models import ServiceWindow
from central.video.models import VisitorCount

logger = logging.getLogger(__name__)

LIVE_ALREADY = ItemOutcome("duplicate", "the live camera already reported this hour at this window")


class WindowItem(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def window(self) -> str: ...
    @property
    def origin(self) -> str: ...


ItemT = TypeVar("ItemT", bound=WindowItem)


def hour_of(moment: datetime) -> datetime:
    """The clock hour (UTC; Asia/Shanghai hours fall on the same boundaries) that contains `moment`."""
    return to_utc(moment).replace(minute=0, second=0, microsecond=0)


def covered_by_live(
    session: Session,
    *,
    items: Iterable[ItemT],
    windows: Mapping[str, ServiceWindow],
    moment: Callable[[ItemT], datetime],
) -> set[str]:
    """Ids of the recorded `items` whose hour (of `moment(item)`) the live camera reported."""
    wanted = {
        item.id: (window.id, hour_of(moment(item)))
        for item in items
        if item.origin == "recording" and (window := windows.get(item.window)) is not None
    }
    if not wanted:
        return set()
    rows = session.execute(
        select(VisitorCount.window_id, VisitorCount.hour_start).where(
            VisitorCount.origin == "live",
            tuple_(VisitorCount.window_id, VisitorCount.hour_start).in_(sorted(set(wanted.values()))),
        )
    )
    live = {(window_id, to_utc(hour)) for window_id, hour in rows}
    return {item_id for item_id, key in wanted.items() if key in live}
