"""Each visit matched with the cases entered during it: the hours of the dual-track test where the
edge reported every visit's start and length (pure, no I/O, shared with the benchmark).

Counting visitors against cases per hour mixes in everything a window does besides serving one
citizen one case: enquiries (a visit, no case), second cases (a case, no visit), cases entered with
nobody in the chair (post, agents), entries that spill into the next hour. Each is noise that a
fifth of the visitors going unrecorded has to stand out from, and on a quiet window it does not.
With each visit known, most of it drops out:

* The edge reports every sit, a citizen who sat down for twenty seconds included: each sit owns
  the cases entered during it, so a short service's case cannot fall to the visit beside it (at a
  busy window many services are shorter than a minute, the edge's visit time).
* Only **served-length** visits take part: at least `service_median_share` of the window's median
  visit that day (over sits of `service_min_seconds` or more), and `service_min_seconds`. An enquiry is short beside the window's own service
  (the window's own median, because a window's business sets its pace: a social-security window
  serves in two minutes what a company registration takes twenty for).
* A visit is **matched** when a case's first event at the window falls in its span, widened by
  `match_after_seconds` after the citizen left (the clerk finishing the entry) but never past the
  next citizen sitting down, and by `match_before_seconds` before they sat down where the previous
  visit's widening left room. The widened spans do not overlap, so one case matches at most one
  visit, and a second case or one entered with nobody there matches none and hides nothing.
* The hour of a visit is the hour it began; its case may be entered in the next one.

The test (`central.dualtrack.rule.judge`, method `visits`) then reads, per hour, the long visits as
"visits" and the matched ones as "cases": the excess is the long visits no case was entered during.

Every window of a day is matched at once on numpy arrays (a province's day is about a million
visits); `matched_visits` and `visit_hours` are the same code for one window.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from central.dualtrack.rule import HourCount
from common.profiles.dualtrack import DualTrackRules

logger = logging.getLogger(__name__)

HOUR = 3600
KEY = 100_000  # window id · KEY + second of the day: one sortable key (a day has < KEY seconds)


@dataclass(frozen=True)
class Visits:
    """Visits of many windows, sorted by (window, start): window ids, starts (second of the day), lengths."""

    window: np.ndarray
    start: np.ndarray
    seconds: np.ndarray

    @classmethod
    def of(cls, spans: Mapping[int, Sequence[tuple[int, int]]]) -> Visits:
        ids = sorted(spans)
        flat = np.array([pair for w in ids for pair in spans[w]], dtype=np.int64).reshape(-1, 2)
        window = np.repeat(np.array(ids, dtype=np.int64), [len(spans[w]) for w in ids])
        order = np.lexsort((flat[:, 0], window))
        return cls(window[order], flat[order, 0], flat[order, 1])

    @classmethod
    def of_pieces(cls, pieces: Mapping[int, Sequence[tuple[int, Sequence[int]]]]) -> Visits:
        """From each window's hours as stored: (hour, [offset, seconds, …]) (no loop per visit)."""
        ids = sorted(pieces)
        flat = np.fromiter(
            chain.from_iterable(f for w in ids for _hour, f in pieces[w]), dtype=np.int64
        ).reshape(-1, 2)
        per_piece = [(w, hour, len(f) // 2) for w in ids for hour, f in pieces[w]]
        sizes = [n for _w, _hour, n in per_piece]
        window = np.repeat(np.array([w for w, _h, _n in per_piece], dtype=np.int64), sizes)
        start = flat[:, 0] + np.repeat(np.array([h * HOUR for _w, h, _n in per_piece], dtype=np.int64), sizes)
        if _ascending(window * KEY + start):  # pieces come in hour order, sits in start order
            return cls(window, start, flat[:, 1])
        order = np.lexsort((start, window))
        return cls(window[order], start[order], flat[order, 1])


@dataclass(frozen=True)
class Cases:
    """Cases of many windows, sorted by (window, second of the day its first event there)."""

    window: np.ndarray
    second: np.ndarray

    @classmethod
    def of(cls, window: np.ndarray, second: np.ndarray) -> Cases:
        window, second = window.astype(np.int64), second.astype(np.int64)
        if _ascending(window * KEY + second):  # case ids mostly follow time: often sorted already
            return cls(window, second)
        order = np.lexsort((second, window))
        return cls(window[order], second[order])

    def only(self, windows: Sequence[int]) -> Cases:
        mine = np.isin(self.window, windows)
        return Cases(self.window[mine], self.second[mine])

    @property
    def keys(self) -> np.ndarray:
        keys: np.ndarray = self.window * KEY + self.second
        return keys


def _ascending(keys: np.ndarray) -> bool:
    return bool(np.all(keys[1:] >= keys[:-1]))


def matched(visits: Visits, cases: Cases, rules: DualTrackRules) -> np.ndarray:
    """Per visit whether a case was entered during its widened span (module docstring)."""
    w, s, d = visits.window, visits.start, visits.seconds
    same_next = np.r_[w[1:] == w[:-1], False]
    high = s + d + rules.match_after_seconds
    high = np.where(same_next, np.minimum(high, np.r_[s[1:], 0]), high)
    same_previous = np.r_[False, w[1:] == w[:-1]]
    low = np.where(
        same_previous,
        np.maximum(s - rules.match_before_seconds, np.r_[0, high[:-1]]),
        s - rules.match_before_seconds,
    )
    keys = cases.keys
    if not len(keys):
        return np.zeros(len(w), dtype=bool)
    first = np.searchsorted(keys, w * KEY + low, side="left")
    found: np.ndarray = (first < len(keys)) & (keys[np.minimum(first, len(keys) - 1)] < w * KEY + high)
    return found


def served(visits: Visits, rules: DualTrackRules) -> np.ndarray:
    """Per visit whether it is served-length: against its own window's median visit that day."""
    w, d = visits.window, visits.seconds
    long: np.ndarray = d >= served_length_of(w, d, rules)
    return long


def served_length_of(window: np.ndarray, seconds: np.ndarray, rules: DualTrackRules) -> np.ndarray:
    """Per visit the seconds its window's visits need that day to count as served."""
    if not len(window):
        return np.zeros(0)
    visit = seconds >= rules.service_min_seconds  # short sits partition the day, they set no pace
    order = np.lexsort((seconds[visit], window[visit]))
    ws, ds = window[visit][order], seconds[visit][order].astype(np.float64)
    ids, starts, counts = np.unique(ws, return_index=True, return_counts=True)
    medians = (ds[starts + (counts - 1) // 2] + ds[starts + counts // 2]) / 2
    threshold = np.maximum(rules.service_min_seconds, rules.service_median_share * medians)
    at = np.minimum(np.searchsorted(ids, window), max(len(ids) - 1, 0))
    if not len(ids):
        return np.full(len(window), np.inf)
    lengths: np.ndarray = np.where(ids[at] == window, threshold[at], np.inf)  # no visit at all: none served
    return lengths


def hours_of_windows(
    counted: dict[int, dict[int, int]], visits: Visits, cases: Cases, rules: DualTrackRules
) -> dict[int, list[HourCount]]:
    """Per window of `counted` (its camera's visits per hour): per counted hour its served-length
    visits and how many of them were matched; an hour with cases but no camera count is listed
    with `visits` None (not compared)."""
    long = served(visits, rules)
    hit = long & matched(visits, cases, rules)
    hour_key = visits.window * 24 + visits.start // HOUR
    long_by = _tally(hour_key[long])
    hit_by = _tally(hour_key[hit])
    case_by = _tally(cases.window * 24 + cases.second // HOUR)
    found: dict[int, list[HourCount]] = {w: [] for w in counted}
    for w, hours in counted.items():
        found[w] = [HourCount(h, long_by.get(w * 24 + h, 0), hit_by.get(w * 24 + h, 0)) for h in hours]
    for key, n in case_by.items():
        w, h = divmod(key, 24)
        if w in counted and h not in counted[w]:
            found[w].append(HourCount(h, None, n))
    for hours_found in found.values():
        hours_found.sort(key=lambda hour: hour.hour)
    return found


def _tally(keys: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(keys, return_counts=True)
    return dict(zip(values.tolist(), counts.tolist(), strict=True))


def matched_visits(
    spans: Sequence[tuple[int, int]], case_seconds: Sequence[int], rules: DualTrackRules
) -> list[bool]:
    """One window: for each visit (second of the day it began, seconds long; in start order) whether
    a case (seconds of the day) was entered during its widened span."""
    visits = Visits.of({0: spans})
    cases = Cases.of(np.zeros(len(case_seconds), dtype=np.int64), np.array(case_seconds, dtype=np.int64))
    return [bool(x) for x in matched(visits, cases, rules)]


def served_length(spans: Sequence[tuple[int, int]], rules: DualTrackRules) -> float:
    """One window: the seconds a visit of the day needs to count as served."""
    visits = Visits.of({0: spans})
    lengths = served_length_of(visits.window, visits.seconds, rules)
    return float(lengths[0]) if len(lengths) and np.isfinite(lengths[0]) else float("inf")


def visit_hours(
    counts: dict[int, int],
    spans: Sequence[tuple[int, int]],
    case_seconds: Sequence[int],
    rules: DualTrackRules,
) -> list[HourCount]:
    """One window's hours (`hours_of_windows`)."""
    cases = Cases.of(np.zeros(len(case_seconds), dtype=np.int64), np.array(case_seconds, dtype=np.int64))
    return hours_of_windows({0: counts}, Visits.of({0: spans}), cases, rules)[0]


__all__ = [
    "KEY",
    "Cases",
    "Visits",
    "hours_of_windows",
    "matched",
    "matched_visits",
    "served",
    "served_length",
    "served_length_of",
    "visit_hours",
]
