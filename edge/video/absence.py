"""离岗: the staff seat empty for longer than the threshold during staffed time (SC-5, SC-6(1)).

Only staffed time counts — working hours, outside breaks, on working days (`WindowSchedule`). An
empty stretch is counted from the later of the moment the seat became empty and the moment staffed
time (re)started, so a seat empty over lunch is no absence, but a staff member who is back more
than the threshold after the break ends is absent from the end of the break. An absence ends when
the seat is taken again (at the first frame the person was seen), when staffed time ends (at its
exact end, from the schedule), or when the analyser stops watching.

Pure: fed the seat's changes and frame times, it returns events; the schedule is only asked for its
next change, not on every frame.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from edge.video.events import AbsenceEnded, AbsenceStarted, Event
from edge.video.schedule import WindowSchedule
from edge.video.seat import SeatChange, SeatTracker, Taken, Vacated

logger = logging.getLogger(__name__)


class AbsenceTracker:
    def __init__(self, window: str, schedule: WindowSchedule) -> None:
        self.window, self.schedule = window, schedule
        self.threshold = timedelta(seconds=schedule.absence_threshold_seconds)
        self.open: datetime | None = None  # started_at of the absence in progress
        self._empty_since: datetime | None = None
        self._staffed = False
        self._staffed_since: datetime | None = None
        self._next_change: datetime | None = None

    def start(self, at: datetime) -> None:
        """Begin watching at `at`: the seat counts as empty from here until someone is seen."""
        self.open = None
        self._empty_since = at
        self._staffed = self.schedule.is_staffed_time(at)
        self._staffed_since = at if self._staffed else None
        self._next_change = self.schedule.next_change(at)

    def advance(self, at: datetime, changes: Sequence[SeatChange], seat: SeatTracker) -> list[Event]:
        """The frame at `at` after the seat tracker saw it (`changes` it confirmed)."""
        events: list[Event] = []
        steps: list[tuple[datetime, int, SeatChange | bool]] = [(c.moment, 0, c) for c in changes]
        while self._next_change is not None and self._next_change <= at:
            boundary = self._next_change
            steps.append((boundary, 1, self.schedule.is_staffed_time(boundary)))
            self._next_change = self.schedule.next_change(boundary)
        for moment, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
            events += self._seat(step) if not isinstance(step, bool) else self._staffing(moment, step)
        if self.open is None and self._staffed and not seat.occupied and self._empty_since is not None:
            started = max(self._empty_since, self._staffed_since or self._empty_since)
            if seat.empty_until(at) - started >= self.threshold:
                self.open = started
                events.append(AbsenceStarted(self.window, started, at))
                logger.info("window %s: absent since %s", self.window, started.isoformat())
        return events

    def stop(self, at: datetime) -> list[Event]:
        """Stop watching at `at` (the analyser closes, or the video has a gap)."""
        events: list[Event] = []
        if self.open is not None and at > self.open:
            events.append(AbsenceEnded(self.window, self.open, at))
        self.open, self._empty_since = None, None
        return events

    def _seat(self, change: SeatChange) -> list[Event]:
        if isinstance(change, Vacated):
            self._empty_since = change.end
            return []
        assert isinstance(change, Taken)
        self._empty_since = None
        if self.open is None:
            return []
        started, self.open = self.open, None
        return [AbsenceEnded(self.window, started, max(change.since, started + timedelta(milliseconds=1)))]

    def _staffing(self, moment: datetime, staffed: bool) -> list[Event]:
        if staffed == self._staffed:
            return []
        self._staffed = staffed
        if staffed:
            self._staffed_since = moment
            return []
        self._staffed_since = None
        if self.open is None:
            return []
        started, self.open = self.open, None
        return [AbsenceEnded(self.window, started, moment)]
