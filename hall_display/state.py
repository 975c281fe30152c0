"""The hall's feed as the display agent holds it, and how each change from central applies to it.

Pure: no I/O, no clock (the caller passes `now`). The rules are the wire contract's
(common.public_feed): a `snapshot` replaces everything (whatever its id: after a database restore
central's ids start lower, and the snapshot says so); every other change carries the hall's next
event id and is applied once: an id at or below the last applied one is a repeat and is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from common.public_feed import (
    CaseRemoved,
    FeedSnapshot,
    HallRef,
    HallSummary,
    Notice,
    NoticeList,
    PublicCase,
    SnapshotReason,
)

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
_EMPTY: Mapping[str, PublicCase] = MappingProxyType({})


class FeedDataError(ValueError):
    """An event central sent does not follow the contract (bad id, bad JSON, wrong shape)."""


@dataclass(frozen=True)
class FeedState:
    """The hall's public feed: cases by case_no (in the order central gave them, new ones last)."""

    hall: HallRef | None = None
    cases: Mapping[str, PublicCase] = field(default_factory=lambda: _EMPTY)
    summary: HallSummary | None = None
    notices: tuple[Notice, ...] = ()
    last_event_id: int = 0
    updated_at: datetime | None = None  # when the data last came from (or was confirmed by) central

    @property
    def has_snapshot(self) -> bool:
        """A snapshot was applied: there is something whole to show."""
        return self.hall is not None and self.summary is not None

    def to_snapshot(self, reason: SnapshotReason = "start") -> FeedSnapshot | None:
        """The state on the wire; `generated_at` is when the data was last known current."""
        if self.hall is None or self.summary is None or self.updated_at is None:
            return None
        return FeedSnapshot(
            hall=self.hall,
            last_event_id=self.last_event_id,
            generated_at=self.updated_at,
            reason=reason,
            cases=list(self.cases.values()),
            summary=self.summary,
            notices=list(self.notices),
        )


@dataclass(frozen=True)
class FeedChange:
    """One applied change, as the agent relays it to its pages: `data` is its JSON (one line)."""

    name: str
    id: int
    data: str


def from_snapshot(snapshot: FeedSnapshot, updated_at: datetime) -> FeedState:
    return FeedState(
        hall=snapshot.hall,
        cases=MappingProxyType({case.case_no: case for case in snapshot.cases}),
        summary=snapshot.summary,
        notices=tuple(snapshot.notices),
        last_event_id=snapshot.last_event_id,
        updated_at=updated_at,
    )


def touch(state: FeedState, now: datetime) -> FeedState:
    """Central confirmed the data is current (a keep-alive, a repeat) without changing it."""
    return replace(state, updated_at=now) if state.has_snapshot else state


def apply(
    state: FeedState, event_name: str, event_id: str | int | None, data: str, *, now: datetime
) -> tuple[FeedState, FeedChange | None]:
    """`state` after one event from central, and the change to relay (None: nothing changed).

    Raises FeedDataError for an event that breaks the contract (the caller starts over with a
    fresh snapshot: a change it cannot read is a change it would miss)."""
    if event_name == "snapshot":
        snapshot = _parse(FeedSnapshot, data, event_name)
        return from_snapshot(snapshot, now), FeedChange("snapshot", snapshot.last_event_id, _json(snapshot))
    number = parse_event_id(event_id)
    if number is None:
        raise FeedDataError(f"a {event_name!r} event without an id")
    if number <= state.last_event_id:
        return state, None  # a repeat: applied already
    advanced = replace(state, last_event_id=number, updated_at=now)
    if event_name == "case":
        case = _parse(PublicCase, data, event_name)
        cases = MappingProxyType({**state.cases, case.case_no: case})
        return replace(advanced, cases=cases), FeedChange(event_name, number, _json(case))
    if event_name == "case_removed":
        removed = _parse(CaseRemoved, data, event_name)
        cases = MappingProxyType({k: v for k, v in state.cases.items() if k != removed.case_no})
        return replace(advanced, cases=cases), FeedChange(event_name, number, _json(removed))
    if event_name == "summary":
        summary = _parse(HallSummary, data, event_name)
        return replace(advanced, summary=summary), FeedChange(event_name, number, _json(summary))
    if event_name == "notices":
        notices = _parse(NoticeList, data, event_name)
        return replace(advanced, notices=tuple(notices.notices)), FeedChange(
            event_name, number, _json(notices)
        )
    # A change this agent does not know (a newer central): its id is taken, so a reconnect does not
    # ask for it again, and nothing is relayed.
    logger.warning("feed event %r (id %d) is not one this agent knows; skipped", event_name, number)
    return advanced, None


def parse_event_id(value: str | int | None) -> int | None:
    """An SSE id as the hall's event number; FeedDataError for anything else."""
    if value is None or isinstance(value, int):
        if isinstance(value, int) and value < 0:
            raise FeedDataError(f"event id {value} is negative")
        return value
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise FeedDataError(f"event id {value[:40]!r} is not a number")
    return int(text)


def _parse(model: type[M], data: str, event_name: str) -> M:
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(data)"
        raise FeedDataError(f"{event_name!r} event: {where}: {first['msg']}") from exc


def _json(model: BaseModel) -> str:
    return model.model_dump_json()
