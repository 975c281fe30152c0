"""What window analytics report: presence intervals, absences (离岗) and visitor counts per hour.

Events are plain frozen dataclasses, produced by the pure analysers (edge.video.presence) and turned
into observations of the edge → central contract (`common.contract`: PresenceIn, AbsenceIn,
VisitorCountIn) by `to_observation`. Observation ids are deterministic, as the contract's
docstrings give them, so an event stored twice (a restarted agent, a retried batch) is one row at
central:

- presence: f"{window}:pres:{start_ms}"
- absence: f"{window}:abs:{started_ms}:{phase}" (phase "start" then "end"; both carry started_at)
- visitor count: f"{window}:vis:{hour_epoch_s}"

All times are aware datetimes in UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from common.contract import AbsenceIn, Origin, PresenceIn, VisitorCountIn, VisitSpanIn, to_wire
from common.contract.observations import MAX_VISIT_SECONDS
from edge.video.schedule import HALL_TZ

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PresenceInterval:
    """The staff seat was taken from `start` (first seen) until `end` (first seen empty)."""

    window: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class AbsenceStarted:
    """The staff seat has been empty since `started_at` for longer than the threshold, in staffed
    time; raised at `at` (the frame that passed the threshold)."""

    window: str
    started_at: datetime
    at: datetime


@dataclass(frozen=True)
class AbsenceEnded:
    """The absence that started at `started_at` ended: the seat was taken again (`ended_at` = first
    seen), staffed time ended (`ended_at` = its end), or the analyser stopped watching."""

    window: str
    started_at: datetime
    ended_at: datetime

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


class VisitSpan(NamedTuple):
    """One sit: its start, in seconds after the hour's start, and how long the seat was taken (a sit
    still going on when its hour is reported: so far)."""

    offset: int
    seconds: int


@dataclass(frozen=True)
class VisitorHour:
    """Citizen visits that started in the clock hour from `hour_start` (a visit: seated at least the
    window's visit_min_seconds), and the seconds of that hour the customer seat was taken."""

    window: str
    hour_start: datetime
    visits: int
    seated_seconds: float
    # When this analyser began watching the hour (hour_start unless it started mid-hour): an agent
    # restarted mid-hour reports the hour in parts, which central adds up.
    watched_from: datetime | None = None
    spans: tuple[VisitSpan, ...] | None = None  # each sit begun in the hour, visits and shorter ones


Event = PresenceInterval | AbsenceStarted | AbsenceEnded | VisitorHour


def hour_floor(moment: datetime) -> datetime:
    """The start of the clock hour (hall time) that contains `moment`, in the moment's zone."""
    local = moment.astimezone(HALL_TZ).replace(minute=0, second=0, microsecond=0)
    return local.astimezone(moment.tzinfo)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch, exactly (no float rounding)."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def to_observation(
    event: Event, *, camera: str, evidence: Sequence[str] = (), origin: Origin = "live"
) -> dict[str, Any]:
    """The observation (edge → central contract) of `event`; `evidence` = ids of evidence items
    taken for an absence (ignored for other events). Analysed from a recording, it says so
    (`origin`), and central never counts it as live."""
    observation = _observation(event, camera=camera, evidence=evidence)
    if origin != "live":  # set only when not live: to_wire leaves the default out
        observation.origin = origin
    return to_wire(observation)


def _observation(
    event: Event, *, camera: str, evidence: Sequence[str]
) -> PresenceIn | AbsenceIn | VisitorCountIn:
    if isinstance(event, PresenceInterval):
        return PresenceIn(
            id=f"{event.window}:pres:{epoch_ms(event.start)}",
            kind="presence",
            window=event.window,
            camera=camera,
            start=_utc(event.start),
            end=_utc(event.end),
        )
    if isinstance(event, AbsenceStarted | AbsenceEnded):
        phase = "start" if isinstance(event, AbsenceStarted) else "end"
        return AbsenceIn(
            id=f"{event.window}:abs:{epoch_ms(event.started_at)}:{phase}",
            kind="absence",
            phase=phase,
            window=event.window,
            camera=camera,
            started_at=_utc(event.started_at),
            ended_at=_utc(event.ended_at) if isinstance(event, AbsenceEnded) else None,
            evidence=list(evidence),
        )
    part = 0 if event.watched_from is None else int((event.watched_from - event.hour_start).total_seconds())
    part = min(max(part, 0), 3599)
    return VisitorCountIn(
        id=f"{event.window}:vis:{epoch_ms(event.hour_start) // 1000}:{part}",
        kind="visitor_count",
        window=event.window,
        camera=camera,
        hour_start=_utc(event.hour_start),
        visits=event.visits,
        seated_seconds=round(min(max(event.seated_seconds, 0.0), 3600.0), 1),
        watched_from_second=part,
        **({} if event.spans is None else {"spans": _spans(event.spans)}),
    )


def _spans(spans: Sequence[VisitSpan]) -> list[VisitSpanIn]:
    # A seat taken for more than a working day is a camera fault: its length is capped, the visit kept.
    return [
        VisitSpanIn(offset=min(max(o, 0), 3599), seconds=min(max(d, 1), MAX_VISIT_SECONDS)) for o, d in spans
    ]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
