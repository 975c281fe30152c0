"""The edge clock kept to central's (Cristian's method): a real offset is corrected, network noise is
not, and a sample whose round trip says too little is ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edge.clock import CentralTime

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


class Base:
    """The box's own clock, moved by hand."""

    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


@pytest.mark.parametrize(
    ("round_trip", "central_ahead", "corrected"),
    [
        (20 * MS, timedelta(seconds=125), timedelta(seconds=125)),  # a slow box: 125 s behind
        (20 * MS, timedelta(seconds=-42), timedelta(seconds=-42)),  # a fast box
        (20 * MS, timedelta(days=-3650), timedelta(days=-3650)),  # a flat RTC battery: years off
        (20 * MS, 800 * MS, timedelta(0)),  # within a second: left alone, stamps stay steady
        (4000 * MS, timedelta(seconds=1.9), timedelta(0)),  # within what a 4 s round trip can tell
        (6000 * MS, timedelta(seconds=30), timedelta(0)),  # a round trip too slow to trust
        (-5 * MS, timedelta(seconds=30), timedelta(0)),  # the base clock stepped back meanwhile
    ],
)
def test_an_offset_is_corrected_only_when_the_exchange_shows_it(
    round_trip: timedelta, central_ahead: timedelta, corrected: timedelta
) -> None:
    base = Base()
    time = CentralTime(base)
    sent = base()
    central = sent + round_trip / 2 + central_ahead  # central stamped its answer halfway through
    base.at = sent + round_trip
    assert time.observe(sent=sent, received=base(), central=central) is (corrected != timedelta(0))
    assert time.offset == corrected
    assert time.now() == base() + corrected


def test_stamps_follow_the_box_clock_plus_the_last_correction() -> None:
    base = Base()
    time = CentralTime(base)
    assert time.now() == T0  # nothing measured yet: the box's own clock
    assert time.observe(sent=T0, received=T0 + 10 * MS, central=T0 + 5 * MS + timedelta(minutes=2))
    base.at = T0 + timedelta(seconds=30)
    assert time.now() == T0 + timedelta(seconds=30, minutes=2)
    # jitter of a few hundred milliseconds around the corrected offset changes nothing
    later = base()
    assert not time.observe(
        sent=later, received=later + 10 * MS, central=later + timedelta(minutes=2, seconds=0.3)
    )
    assert time.offset == timedelta(minutes=2)
    # someone fixed the box's clock (NTP): the offset goes back to nothing
    base.at = later + timedelta(minutes=2)
    fixed = base()
    assert time.observe(sent=fixed, received=fixed + 10 * MS, central=fixed + 5 * MS)
    assert time.offset == timedelta(0) and time.now() == fixed
