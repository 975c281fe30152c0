"""Hysteresis on one seat: from "is someone there in this frame?" to intervals the seat was taken.

A detector misses a face now and then and sees one where there is none now and then; a seat flips
to taken only after someone has been seen for `present_after` seconds in a row, and back to empty
only after nobody has been seen for `empty_after` seconds in a row. The interval then reported is
back-dated to what was actually seen: it starts at the first frame of the run that confirmed the
person and ends at the first frame of the run that confirmed the empty seat. So the smoothing delays
when an interval is *known*, not where its ends lie.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Taken:
    """The seat is taken since `since` (the first frame of the confirming run)."""

    since: datetime

    @property
    def moment(self) -> datetime:
        return self.since


@dataclass(frozen=True)
class Vacated:
    """The seat was taken from `start` until `end` (the first frame it was seen empty)."""

    start: datetime
    end: datetime

    @property
    def moment(self) -> datetime:
        return self.end


SeatChange = Taken | Vacated


class SeatTracker:
    def __init__(self, *, present_after: float, empty_after: float) -> None:
        if present_after < 0 or empty_after < 0:
            raise ValueError("hysteresis times cannot be negative")
        self.present_after = timedelta(seconds=present_after)
        self.empty_after = timedelta(seconds=empty_after)
        self.occupied = False
        self.since: datetime | None = None  # start of the current interval, while occupied
        self.pending_since: datetime | None = None  # start of a run that contradicts `occupied`

    def observe(self, at: datetime, seen: bool) -> SeatChange | None:
        """One frame's verdict; returns the change it confirms, if any."""
        if seen != self.occupied:
            if self.pending_since is None:
                self.pending_since = at
            if at - self.pending_since >= (self.present_after if seen else self.empty_after):
                return self._flip()
        else:
            self.pending_since = None
        return None

    def empty_until(self, at: datetime) -> datetime:
        """While empty: until when the seat is known empty (a run of sightings not yet confirmed
        would make the seat taken from its first frame)."""
        if not self.occupied and self.pending_since is not None:
            return self.pending_since
        return at

    def taken_until(self, at: datetime) -> datetime:
        """While occupied: until when the seat is known taken (see empty_until)."""
        if self.occupied and self.pending_since is not None:
            return self.pending_since
        return at

    def close(self, at: datetime) -> Vacated | None:
        """Stop watching at `at`: an open interval ends where the seat was last known taken."""
        change = None
        if self.occupied and self.since is not None:
            end = self.taken_until(at)
            if end > self.since:
                change = Vacated(self.since, end)
        self.occupied, self.since, self.pending_since = False, None, None
        return change

    def _flip(self) -> SeatChange:
        moment = self.pending_since
        assert moment is not None
        self.pending_since = None
        if self.occupied:
            start = self.since
            assert start is not None
            self.occupied, self.since = False, None
            return Vacated(start, moment)
        self.occupied, self.since = True, moment
        return Taken(moment)
