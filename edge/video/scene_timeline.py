"""Who sits where and when in a generated hall scene, and the ground truth that follows from it.

A timeline is drawn from a seed (the same seed, the same day in the hall) so tests and the benchmark
can assert what the analytics report against what really happened on screen:

- staff: seated stints separated by gaps of three kinds — short ones (a trip to the printer, well
  under the absence threshold), long ones (离岗: well over it) and breaks (the staff member leaves
  just before a break and comes back just after; `late_windows` come back late, which is an absence
  that starts when the break ends);
- citizens: sits in the customer seat while the staff member is there, most long enough to count as
  a visit, some much shorter (someone who sits down, asks one question and leaves);
- fidgets: episodes of a few pixels of jitter, and stints with none at all, so a seated person is
  often perfectly still for minutes (the case the detector recheck timer exists for).

Every duration keeps a margin from the thresholds it is tested against (`MARGIN_S`), so the truth is
unambiguous under the analyser's hysteresis. Times here are scene seconds; `SceneTruth` turns them
into aware datetimes from the scene's start and derives absences (for a real `WindowSchedule`) and
visitor counts per clock hour.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from edge.video.events import hour_floor
from edge.video.schedule import WindowSchedule

logger = logging.getLogger(__name__)

MARGIN_S = 40.0  # distance kept between any generated duration and the threshold it is judged by
MIN_GAP_S = 45.0  # the seat stays empty at least this long between two sits (> empty_after + frames)


@dataclass(frozen=True)
class Fidget:
    """An episode in which a seated person shifts by up to `amplitude` pixels every half second."""

    start: float
    end: float
    amplitude: int


@dataclass(frozen=True)
class Stint:
    """One person seated once: truth is [start, end) in scene seconds (sitting down/up is centred on
    those moments)."""

    person: int
    start: float
    end: float
    fidgets: tuple[Fidget, ...] = ()

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class WindowPlan:
    staff: tuple[Stint, ...]
    customers: tuple[Stint, ...]


@dataclass(frozen=True)
class Timeline:
    duration: float
    windows: tuple[WindowPlan, ...]
    breaks: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class TimelineSpec:
    """The knobs of `make_timeline`; defaults suit a 3-minute absence threshold and 60 s visits."""

    absence_after_s: float = 180.0
    visit_min_s: float = 60.0
    stint_s: tuple[float, float] = (150.0, 480.0)
    visit_s: tuple[float, float] = (100.0, 420.0)
    still_share: float = 0.4  # share of stints with no fidget at all
    late_windows: tuple[int, ...] = (1,)  # indexes of windows whose staff come back late from a break
    staff_people: tuple[int, ...] = (0, 1, 2, 4)  # person index of each window's staff member
    people: int = 6  # persons available (scene.PEOPLE)


def make_timeline(
    windows: int,
    *,
    duration: float,
    seed: int,
    breaks: Sequence[tuple[float, float]] = (),
    spec: TimelineSpec,
) -> Timeline:
    """A deterministic timeline for `windows` windows over `duration` scene seconds."""
    if not 1 <= windows <= 8:
        raise ValueError(f"a scene has 1 to 8 windows, not {windows}")
    if duration < 60:
        raise ValueError(f"a scene lasts at least 60 s, not {duration}")
    plans = []
    for index in range(windows):
        rng = random.Random(f"{seed}:{index}")
        staff_person = spec.staff_people[index % len(spec.staff_people)]
        late = index in spec.late_windows
        staff = _staff_stints(rng, duration, sorted(breaks), spec, person=staff_person, late=late)
        customers = _customer_stints(rng, staff, spec, staff_person=staff_person)
        plans.append(WindowPlan(staff=tuple(staff), customers=tuple(customers)))
    return Timeline(duration=duration, windows=tuple(plans), breaks=tuple(sorted(breaks)))


def _staff_stints(
    rng: random.Random,
    duration: float,
    breaks: list[tuple[float, float]],
    spec: TimelineSpec,
    *,
    person: int,
    late: bool,
) -> list[Stint]:
    stints: list[Stint] = []
    t = rng.choice([0.0, rng.uniform(20, 60)])
    gap_kinds = ["short", "long", "short"]
    rng.shuffle(gap_kinds)
    turn = 0
    while t < duration - 30:
        end = t + rng.uniform(*spec.stint_s)
        upcoming = next((b for b in breaks if b[1] > t), None)
        if upcoming is not None and end > upcoming[0] - 60:
            # Leave just before the break; come back just after it (or late).
            end = max(upcoming[0] - rng.uniform(0, 20), t)
            extra = spec.absence_after_s + rng.uniform(MARGIN_S + 20, 150) if late else rng.uniform(10, 40)
            back = upcoming[1] + extra
        else:
            kind = gap_kinds[turn % len(gap_kinds)]
            turn += 1
            back = end + _gap(rng, kind, spec)
            if upcoming is not None and back > upcoming[0] - 60:
                # A gap running into the break would make an ambiguous absence: stay until the break.
                end = max(upcoming[0] - rng.uniform(0, 20), t)
                back = upcoming[1] + rng.uniform(10, 40)
        if end - t >= 30:
            stints.append(Stint(person, t, min(end, duration), _fidgets(rng, t, min(end, duration), spec)))
        t = back
    return _unambiguous_end(stints, duration, spec)


def _unambiguous_end(stints: list[Stint], duration: float, spec: TimelineSpec) -> list[Stint]:
    """An empty seat at the end of the scene lasting about the threshold would be a coin toss: stay."""
    if stints and abs((duration - stints[-1].end) - spec.absence_after_s) < MARGIN_S:
        last = stints[-1]
        stints[-1] = Stint(last.person, last.start, duration, last.fidgets)
    return stints


def _gap(rng: random.Random, kind: str, spec: TimelineSpec) -> float:
    if kind == "long":
        return spec.absence_after_s + rng.uniform(MARGIN_S + 20, 200)
    return rng.uniform(MIN_GAP_S, max(MIN_GAP_S + 1, min(120.0, spec.absence_after_s - MARGIN_S - 20)))


def _customer_stints(
    rng: random.Random, staff: list[Stint], spec: TimelineSpec, *, staff_person: int
) -> list[Stint]:
    """Citizens sit down while the staff member is there and leave before they do."""
    sits: list[Stint] = []
    others = [p for p in range(spec.people) if p != staff_person]
    for stint in staff:
        t = stint.start + rng.uniform(15, 60)
        while True:
            short = rng.random() < 0.25
            low, high = (12.0, spec.visit_min_s - MARGIN_S) if short else spec.visit_s
            seconds = rng.uniform(max(low, 8.0), max(high, low + 1))
            end = min(t + seconds, stint.end - 10)
            if end - t < 8 or spec.visit_min_s - MARGIN_S < end - t < spec.visit_min_s + MARGIN_S:
                break  # too close to the visit threshold to be unambiguous: no more sits in this stint
            sits.append(Stint(rng.choice(others), t, end, _fidgets(rng, t, end, spec)))
            t = end + rng.uniform(MIN_GAP_S, 150)
    return sits


def _fidgets(rng: random.Random, start: float, end: float, spec: TimelineSpec) -> tuple[Fidget, ...]:
    if rng.random() < spec.still_share:
        return ()  # perfectly still for the whole stint
    episodes = []
    t = start + rng.uniform(5, 60)
    while t < end - 5:
        length = rng.uniform(2, 12)
        episodes.append(Fidget(t, min(t + length, end - 2), rng.randint(2, 4)))
        t += length + rng.uniform(40, 240)
    return tuple(episodes)


# --- ground truth ------------------------------------------------------------------------------

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class SceneTruth:
    """What happened on screen, as aware datetimes from `start` (scene second 0)."""

    start: datetime
    timeline: Timeline
    names: tuple[str, ...]

    @property
    def end(self) -> datetime:
        return self.at(self.timeline.duration)

    def at(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=seconds)

    def plan(self, window: str) -> WindowPlan:
        try:
            return self.timeline.windows[self.names.index(window)]
        except ValueError:
            raise KeyError(f"no window {window!r} in this scene (windows: {', '.join(self.names)})") from None

    def staff_intervals(self, window: str) -> list[Interval]:
        return [(self.at(s.start), self.at(s.end)) for s in self.plan(window).staff]

    def customer_intervals(self, window: str) -> list[Interval]:
        return [(self.at(s.start), self.at(s.end)) for s in self.plan(window).customers]

    def staff_present(self, window: str, seconds: float) -> bool:
        return any(s.start <= seconds < s.end for s in self.plan(window).staff)

    def customer_present(self, window: str, seconds: float) -> bool:
        return any(s.start <= seconds < s.end for s in self.plan(window).customers)

    def absences(self, window: str, schedule: WindowSchedule) -> list[Interval]:
        """(started_at, ended_at) of every 离岗: an empty staff seat whose staffed part, counted from
        the later of the seat emptying and staffed time resuming, lasts ≥ the threshold."""
        threshold = timedelta(seconds=schedule.absence_threshold_seconds)
        found = []
        for gap_start, gap_end in _gaps(self.staff_intervals(window), self.start, self.end):
            for piece_start, piece_end in _staffed_pieces(schedule, gap_start, gap_end):
                if piece_end - piece_start >= threshold:
                    found.append((piece_start, piece_end))
        return found

    def visits_by_hour(self, window: str, visit_min_seconds: float) -> dict[datetime, tuple[int, float]]:
        """Clock hour (hall time, as UTC) → (visits started in it, seconds the customer seat was taken)."""
        hours: dict[datetime, list[float]] = {}
        hour = hour_floor(self.start)
        while hour < self.end:
            hours[hour] = [0, 0.0]
            hour += timedelta(hours=1)
        for start, end in self.customer_intervals(window):
            if (end - start).total_seconds() >= visit_min_seconds:
                hours[hour_floor(start)][0] += 1
            for hour_start, tally in hours.items():
                overlap = min(end, hour_start + timedelta(hours=1)) - max(start, hour_start)
                tally[1] += max(overlap.total_seconds(), 0.0)
        return {h: (int(v[0]), v[1]) for h, v in hours.items()}


def _gaps(intervals: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    gaps, cursor = [], start
    for a, b in intervals:
        if a > cursor:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def _staffed_pieces(schedule: WindowSchedule, start: datetime, end: datetime) -> list[Interval]:
    """The parts of [start, end) inside staffed time, split at every schedule change."""
    pieces, cursor = [], start
    while cursor < end:
        change = min(schedule.next_change(cursor), end)
        if schedule.is_staffed_time(cursor):
            pieces.append((cursor, change))
        cursor = change
    # Adjacent pieces (a change that does not flip staffing) belong together.
    merged: list[Interval] = []
    for a, b in pieces:
        if merged and merged[-1][1] == a:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged
