"""Citizen visits per window per clock hour, from the intervals the customer seat was taken.

A visit is a sit of at least `visit_min_seconds` (the rule profile's `presence.visit_min_seconds`,
overridable per window), counted in the clock hour (hall time) it started; someone who sits down,
asks one question and leaves is not a visit. Each hour also reports the seconds the customer seat
was taken in it (short sits included), and each sit's start and length (short ones too): central
matches sits with the cases entered during them, and tells a long visit (served) from a short one. Central compares these counts with the cases the window
recorded, to expose work done off the system ("dual track", RULES last section).

An hour is reported once it cannot change any more: the hysteresis has settled past its end, and
no sit that started in it is still shorter than the visit time. `close` reports the hours not yet
reported, the current one included (partial); `provisional` says the same without closing anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from edge.video.events import VisitorHour, VisitSpan, hour_floor
from edge.video.seat import SeatChange, SeatTracker, Vacated

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)


class VisitorCounter:
    def __init__(self, window: str, *, visit_min_seconds: float, settle_seconds: float) -> None:
        self.window = window
        self.visit_min = timedelta(seconds=visit_min_seconds)
        self.settle = timedelta(seconds=settle_seconds)
        self._hours: list[datetime] = []  # hours seen in frames and not reported yet, oldest first
        self._first_seen: dict[datetime, datetime] = {}  # hour → its first frame in this run
        self._sits: list[tuple[datetime, datetime]] = []  # closed sits that may still count somewhere

    def observe(self, at: datetime, changes: Sequence[SeatChange], seat: SeatTracker) -> list[VisitorHour]:
        hour = hour_floor(at)
        if not self._hours or self._hours[-1] < hour:
            self._hours.append(hour)
            self._first_seen.setdefault(hour, at)
        self._sits += [(c.start, c.end) for c in changes if isinstance(c, Vacated)]
        reported = []
        while self._hours and self._ready(self._hours[0], at, seat):
            reported.append(self._report(self._hours.pop(0), self._open(at, seat)))
        return reported

    def add(self, changes: Sequence[SeatChange]) -> None:
        """Sits closed outside `observe` (the analyser stopped watching for a while)."""
        self._sits += [(c.start, c.end) for c in changes if isinstance(c, Vacated)]

    def close(self, at: datetime, changes: Sequence[SeatChange]) -> list[VisitorHour]:
        """Report every hour not yet reported; the seat tracker must be closed first (`changes`)."""
        self._sits += [(c.start, c.end) for c in changes if isinstance(c, Vacated)]
        reported = [self._report(hour, None) for hour in self._hours]
        self._hours, self._sits = [], []
        return reported

    def _open(self, at: datetime, seat: SeatTracker) -> tuple[datetime, datetime] | None:
        if seat.occupied and seat.since is not None:
            return seat.since, seat.taken_until(at)
        return None

    def _ready(self, hour: datetime, at: datetime, seat: SeatTracker) -> bool:
        if at < hour + HOUR + self.settle:
            return False
        current = self._open(at, seat)
        if current is None:
            return True
        start, until = current
        undecided = hour <= start < hour + HOUR and until - start < self.visit_min
        return not undecided

    def provisional(self, at: datetime, seat: SeatTracker) -> list[VisitorHour]:
        """What `close` would report if the analyser stopped at `at` (changes nothing): kept on disk
        by the pipeline, so a killed agent's current hour is not lost."""
        current = self._open(at, seat)
        return [self._tally(hour, current) for hour in self._hours]

    def _report(self, hour: datetime, current: tuple[datetime, datetime] | None) -> VisitorHour:
        reported = self._tally(hour, current)
        self._sits = [(start, stop) for start, stop in self._sits if stop > hour + HOUR]
        self._first_seen.pop(hour, None)
        return reported

    def _tally(self, hour: datetime, current: tuple[datetime, datetime] | None) -> VisitorHour:
        sits = self._sits + ([current] if current is not None else [])
        end = hour + HOUR
        begun = sorted((start, stop) for start, stop in sits if hour <= start < end)
        visits = sum(1 for start, stop in begun if stop - start >= self.visit_min)
        spans = tuple(
            VisitSpan(int((start - hour).total_seconds()), max(int((stop - start).total_seconds()), 1))
            for start, stop in begun
        )
        seated = sum(max((min(stop, end) - max(start, hour)).total_seconds(), 0.0) for start, stop in sits)
        watched_from = self._first_seen.get(hour, hour)
        return VisitorHour(
            self.window, hour, visits, min(seated, 3600.0), watched_from=watched_from, spans=spans
        )
