"""The case state machine (SZ-8, SC-5(1), LAW arts. 32, 42, 45): pure, no I/O.

A case is an append-only list of events (QTH-1). `replay` folds them, in time order, into a
`CaseState`, refusing any impossible transition with a reason a person can act on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from central.core.clock import shanghai_date

logger = logging.getLogger(__name__)


class EventType(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    UNDERTAKEN = "undertaken"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    COMPLETED = "completed"
    REFUSED_ACCEPTANCE = "refused_acceptance"
    REFUSED = "refused"
    CORRECTION_REQUESTED = "correction_requested"
    CORRECTION_RECEIVED = "correction_received"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    EXTENDED = "extended"
    REVOKED = "revoked"


class CaseStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    UNDERTAKEN = "undertaken"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    AWAITING_CORRECTION = "awaiting_correction"
    COMPLETED = "completed"
    REFUSED_ACCEPTANCE = "refused_acceptance"
    REFUSED = "refused"
    REVOKED = "revoked"


OPEN_STATUSES = frozenset(
    {
        CaseStatus.RECEIVED,
        CaseStatus.ACCEPTED,
        CaseStatus.UNDERTAKEN,
        CaseStatus.REVIEWED,
        CaseStatus.APPROVED,
        CaseStatus.SUSPENDED,
        CaseStatus.AWAITING_CORRECTION,
    }
)
DECIDED_STATUSES = frozenset({CaseStatus.COMPLETED, CaseStatus.REFUSED})
CLOSED_STATUSES = frozenset(set(CaseStatus) - OPEN_STATUSES)

# Working stages in order; a stage event may follow any of the stages listed for it.
_STAGE_AFTER: dict[EventType, frozenset[CaseStatus]] = {
    EventType.ACCEPTED: frozenset({CaseStatus.RECEIVED}),
    EventType.REFUSED_ACCEPTANCE: frozenset({CaseStatus.RECEIVED}),
    EventType.UNDERTAKEN: frozenset({CaseStatus.ACCEPTED, CaseStatus.UNDERTAKEN}),
    EventType.REVIEWED: frozenset({CaseStatus.ACCEPTED, CaseStatus.UNDERTAKEN, CaseStatus.REVIEWED}),
    EventType.APPROVED: frozenset({CaseStatus.ACCEPTED, CaseStatus.UNDERTAKEN, CaseStatus.REVIEWED}),
    EventType.COMPLETED: frozenset(
        {CaseStatus.ACCEPTED, CaseStatus.UNDERTAKEN, CaseStatus.REVIEWED, CaseStatus.APPROVED}
    ),
    EventType.REFUSED: frozenset({CaseStatus.ACCEPTED, CaseStatus.UNDERTAKEN, CaseStatus.REVIEWED}),
}
_WORKING = frozenset({CaseStatus.ACCEPTED, CaseStatus.UNDERTAKEN, CaseStatus.REVIEWED, CaseStatus.APPROVED})
_PAUSE_START = {
    EventType.SUSPENDED: CaseStatus.SUSPENDED,
    EventType.CORRECTION_REQUESTED: CaseStatus.AWAITING_CORRECTION,
}
_PAUSE_END = {
    EventType.RESUMED: CaseStatus.SUSPENDED,
    EventType.CORRECTION_RECEIVED: CaseStatus.AWAITING_CORRECTION,
}
_REASON_REQUIRED = frozenset({EventType.SUSPENDED, EventType.EXTENDED})
_FIRST_EVENTS = frozenset({EventType.RECEIVED, EventType.ACCEPTED})


class TransitionError(ValueError):
    """An event that cannot follow the case's history; `event_id` names the event refused."""

    def __init__(self, reason: str, event_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


@dataclass(frozen=True)
class EventFact:
    """What the lifecycle needs to know of one event."""

    type: EventType
    at: datetime
    days: int | None = None
    reason: str | None = None
    event_id: str = ""


@dataclass(frozen=True)
class Pause:
    """A span in which the clock stops: suspension (LAW art. 45) or correction (LAW art. 32)."""

    kind: CaseStatus
    start: date
    end: date | None
    counts: bool  # pauses before acceptance do not touch the clock


@dataclass
class CaseState:
    status: CaseStatus
    stage: CaseStatus  # the working stage a pause returns to
    received_at: datetime | None = None
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    extension_days: int = 0
    extensions: int = 0
    pauses: list[Pause] = field(default_factory=list)

    @property
    def accepted_on(self) -> date | None:
        return shanghai_date(self.accepted_at) if self.accepted_at else None

    @property
    def closed_on(self) -> date | None:
        return shanghai_date(self.closed_at) if self.closed_at else None

    @property
    def open_pause(self) -> Pause | None:
        return self.pauses[-1] if self.pauses and self.pauses[-1].end is None else None


@dataclass(frozen=True)
class ExtensionPolicy:
    max_times: int = 1
    max_workdays: int = 10


def replay(events: Iterable[EventFact], *, policy: ExtensionPolicy) -> CaseState:
    """Fold events (already in time order) into a state, or raise `TransitionError`."""
    state: CaseState | None = None
    for event in events:
        try:
            state = _first(event) if state is None else _apply(state, event, policy)
        except TransitionError as exc:
            raise TransitionError(exc.reason, event.event_id) from None
    if state is None:
        raise TransitionError("a case needs at least one event")
    return state


def _first(event: EventFact) -> CaseState:
    if event.type not in _FIRST_EVENTS:
        raise TransitionError(f"a case must start with received or accepted, not {event.type}")
    if event.type is EventType.RECEIVED:
        return CaseState(status=CaseStatus.RECEIVED, stage=CaseStatus.RECEIVED, received_at=event.at)
    return CaseState(
        status=CaseStatus.ACCEPTED, stage=CaseStatus.ACCEPTED, received_at=event.at, accepted_at=event.at
    )


def _apply(state: CaseState, event: EventFact, policy: ExtensionPolicy) -> CaseState:
    kind = event.type
    _check_not_closed(state, kind)
    if kind in _REASON_REQUIRED and not (event.reason and event.reason.strip()):
        raise TransitionError(f"{kind} needs a reason")
    if kind is EventType.REVOKED:
        state.status = CaseStatus.REVOKED
        state.closed_at = state.closed_at or event.at
        return state
    if kind is EventType.RECEIVED:
        raise TransitionError("the case was already received")
    if kind is EventType.EXTENDED:
        return _extend(state, event, policy)
    if kind in _PAUSE_START:
        return _pause(state, event)
    if kind in _PAUSE_END:
        return _unpause(state, event)
    return _advance(state, event)


def _check_not_closed(state: CaseState, kind: EventType) -> None:
    if state.status is CaseStatus.REVOKED:
        raise TransitionError("the case was revoked; nothing may follow")
    if state.status in CLOSED_STATUSES and kind is not EventType.REVOKED:
        raise TransitionError(f"the case is {state.status}; only revoked may follow, not {kind}")


def _advance(state: CaseState, event: EventFact) -> CaseState:
    if state.open_pause is not None:
        ending = "resumed" if state.status is CaseStatus.SUSPENDED else "correction_received"
        raise TransitionError(f"the case is {state.status}; {ending} must come before {event.type}")
    allowed = _STAGE_AFTER[event.type]
    if state.stage not in allowed:
        raise TransitionError(f"{event.type} cannot follow {state.stage}")
    new_status = CaseStatus(event.type.value)
    if event.type is EventType.ACCEPTED:
        state.accepted_at = event.at
    if new_status in CLOSED_STATUSES:
        state.closed_at = event.at
    state.status = state.stage = new_status
    return state


def _pause(state: CaseState, event: EventFact) -> CaseState:
    if state.open_pause is not None:
        raise TransitionError(f"the case is already {state.status}")
    if event.type is EventType.SUSPENDED and state.stage not in _WORKING:
        raise TransitionError(f"only an accepted case can be suspended, not one that is {state.stage}")
    if event.type is EventType.CORRECTION_REQUESTED and state.stage not in _WORKING | {CaseStatus.RECEIVED}:
        raise TransitionError(f"corrections cannot be requested once the case is {state.stage}")
    kind = _PAUSE_START[event.type]
    counts = state.accepted_at is not None
    state.pauses.append(Pause(kind=kind, start=shanghai_date(event.at), end=None, counts=counts))
    state.status = kind
    return state


def _unpause(state: CaseState, event: EventFact) -> CaseState:
    pause = state.open_pause
    expected = _PAUSE_END[event.type]
    if pause is None or pause.kind is not expected:
        raise TransitionError(f"{event.type} needs a case that is {expected}, but it is {state.status}")
    state.pauses[-1] = Pause(
        kind=pause.kind, start=pause.start, end=shanghai_date(event.at), counts=pause.counts
    )
    state.status = state.stage
    return state


def _extend(state: CaseState, event: EventFact, policy: ExtensionPolicy) -> CaseState:
    if state.accepted_at is None:
        raise TransitionError("only an accepted case can be extended")
    if state.extensions >= policy.max_times:
        raise TransitionError(
            f"the case was already extended {state.extensions} time(s); the limit is {policy.max_times}"
        )
    days = event.days or 0
    if not 1 <= days <= policy.max_workdays:
        raise TransitionError(f"an extension adds 1 to {policy.max_workdays} working days, not {days}")
    state.extensions += 1
    state.extension_days += days
    return state
