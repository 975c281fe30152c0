"""Visitor counts per window per clock hour (issue #4 item 4; RULES: "dual track" cross-checks).

Against the generated hall (tests/edge/video/hall_run.py: 09:40-10:20, so two clock hours): visit
counts per hour equal the truth exactly; seated seconds per hour within 2 s per sit of the truth
(measured: within 1 s per sit). Sits shorter than visit_min_seconds exist and are not counted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter

from common.contract import Observation, VisitorCountIn
from edge.video.events import VisitorHour, VisitSpan, hour_floor, to_observation
from edge.video.schedule import HALL_TZ
from edge.video.seat import SeatTracker
from edge.video.visitors import VisitorCounter
from tests.edge.video.hall_run import START, VISIT_MIN_SECONDS, hall_run

OBSERVATION = TypeAdapter(Observation)


def test_visits_per_hour_equal_the_truth() -> None:
    run = hall_run()
    short_sits = 0
    for window in run.scene.names:
        truth = run.scene.truth.visits_by_hour(window, VISIT_MIN_SECONDS)
        found = {e.hour_start: e for e in run.of(window, VisitorHour)}
        assert sorted(found) == sorted(truth) == [START.replace(minute=0), START.replace(hour=10, minute=0)]
        sits = run.scene.truth.customer_intervals(window)
        short_sits += sum(1 for a, b in sits if (b - a).total_seconds() < VISIT_MIN_SECONDS)
        for hour, (visits, seated) in truth.items():
            assert found[hour].visits == visits, (window, hour)
            in_hour = sum(1 for a, b in sits if a < hour + timedelta(hours=1) and b > hour)
            assert abs(found[hour].seated_seconds - seated) <= 2.0 * max(in_hour, 1), (window, hour)
    assert short_sits >= 2, "the scene must have citizens who sit down only briefly"
    assert sum(e.visits for e in run.events if isinstance(e, VisitorHour)) >= 8


def test_visitor_hours_are_valid_observations() -> None:
    for event in hall_run().events:
        if isinstance(event, VisitorHour):
            observation = to_observation(event, camera="C1")
            parsed = OBSERVATION.validate_python(observation)
            assert isinstance(parsed, VisitorCountIn)
            part = parsed.watched_from_second
            assert parsed.id == f"{event.window}:vis:{int(event.hour_start.timestamp())}:{part}"
            assert parsed.hour_start.minute == 0 and parsed.hour_start.tzinfo is not None
            # The run starts at 09:40: that hour is watched from its 2,400th second, 10:00 whole.
            assert part == (2400 if parsed.hour_start.astimezone(HALL_TZ).hour == 9 else 0)


# --- the counter alone, fed a seat without hysteresis ------------------------------------------------

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=HALL_TZ)


def _count(sits: list[tuple[float, float]], *, until: float, close: bool = True) -> list[VisitorHour]:
    """Frames every second from 09:00 (T0) to `until` minutes; the seat is taken in `sits`
    (minutes from T0). Visits need 60 s; settle 5 s."""
    seat = SeatTracker(present_after=0, empty_after=0)
    counter = VisitorCounter("W01", visit_min_seconds=60, settle_seconds=5)
    hours: list[VisitorHour] = []
    seconds = 0
    while seconds <= until * 60:
        at = T0 + timedelta(seconds=seconds)
        taken = any(a * 60 <= seconds < b * 60 for a, b in sits)
        change = seat.observe(at, taken)
        hours += counter.observe(at, [change] if change else [], seat)
        seconds += 1
    if close:
        last = T0 + timedelta(seconds=seconds - 1)
        change = seat.close(last)
        hours += counter.close(last, [change] if change else [])
    return hours


def _summary(hours: list[VisitorHour]) -> list[tuple[str, int, float]]:
    return [(f"{h.hour_start.astimezone(HALL_TZ):%H:%M}", h.visits, h.seated_seconds) for h in hours]


def test_a_visit_is_counted_in_the_hour_it_started() -> None:
    # 09:50-10:10: one visit, in the 09:00 hour; its seconds split 600 + 600.
    assert _summary(_count([(50, 70)], until=75)) == [("09:00", 1, 600.0), ("10:00", 0, 600.0)]


def test_short_sits_are_not_visits_but_their_seconds_count() -> None:
    hours = _count([(5, 5.5), (10, 12), (20, 20.9)], until=30)
    assert _summary(hours) == [("09:00", 1, 30.0 + 120.0 + 54.0)]


def test_an_hour_waits_for_a_sit_that_may_still_become_a_visit() -> None:
    """A sit from 09:59:30: at 10:00:05 (+settle) it is 35 s long, not yet a visit; the 09:00 hour is
    reported once it reaches 60 s, at 10:00:30, with the visit in it."""
    hours = _count([(59.5, 62)], until=61, close=False)
    assert _summary(hours) == [("09:00", 1, 30.0)]
    hours = _count([(59.5, 62)], until=60.4, close=False)
    assert hours == []


def test_each_visit_is_reported_with_its_start_and_length() -> None:
    """Spans: seconds after the hour's start and seconds long, every sit (the short one too: it owns
    the case entered during it); a visit still going on when its hour is reported gives its length
    so far."""
    hours = _count([(5, 5.5), (10, 12), (50, 70)], until=75)
    # 09:00 is reported at 10:00:05 (settled), the 09:50 visit then 605 s long and still going on.
    assert [h.spans for h in hours] == [(VisitSpan(300, 30), VisitSpan(600, 120), VisitSpan(3000, 605)), ()]
    assert [h.visits for h in hours] == [2, 0]
    ongoing = _count([(59.5, 62)], until=61, close=False)
    assert ongoing[0].spans == (VisitSpan(3570, 60),)
    wire = OBSERVATION.validate_python(to_observation(hours[0], camera="C1"))
    assert isinstance(wire, VisitorCountIn) and wire.spans is not None
    assert [(s.offset, s.seconds) for s in wire.spans] == [(300, 30), (600, 120), (3000, 605)]


def test_close_reports_the_partial_hour_and_hours_without_visitors() -> None:
    assert _summary(_count([], until=70)) == [("09:00", 0, 0.0), ("10:00", 0, 0.0)]
    assert _summary(_count([(65, 66.5)], until=67)) == [("09:00", 0, 0.0), ("10:00", 1, 90.0)]


def test_hour_floor_is_the_clock_hour_in_hall_time() -> None:
    moment = datetime(2026, 3, 2, 1, 59, 59, 999999, tzinfo=UTC)  # 09:59:59 in Shanghai
    assert hour_floor(moment) == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert hour_floor(moment).tzinfo == UTC
