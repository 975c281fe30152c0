"""Each visit matched with the cases entered during it: the hours of the dual-track test where the
edge reported every visit's start and length (pure, no I/O, shared with the benchmark).

Counting visitors against cases per hour mixes in everything a window does besides serving one
citizen one case: enquiries (a visit, no case), second cases (a case, no visit), cases entered with
nobody in the chair (post, agents), entries that spill into the next hour. Each is noise that a
fifth of the visitors going unrecorded has to stand out from, and on a quiet window it does not.
With each visit known, most of it drops out:

* Only **served-length** visits take part: at least `service_median_share` of the window's median
  visit that day, and `service_min_seconds`. An enquiry is short beside the window's own service
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
"""

from __future__ import annotations

import logging
import statistics
from bisect import bisect_left
from collections.abc import Sequence

from central.dualtrack.rule import HourCount
from common.profiles.dualtrack import DualTrackRules

logger = logging.getLogger(__name__)

HOUR = 3600


def matched_visits(
    spans: Sequence[tuple[int, int]], case_seconds: Sequence[int], rules: DualTrackRules
) -> list[bool]:
    """For each visit (second of the day it began, seconds long; in start order) whether a case
    (seconds of the day, ascending) was entered during its widened span."""
    before, after = rules.match_before_seconds, rules.match_after_seconds
    matched = []
    previous_high = None
    for i, (start, seconds) in enumerate(spans):
        low = start - before
        if previous_high is not None:
            low = max(low, previous_high)
        high = start + seconds + after
        if i + 1 < len(spans):
            high = min(high, spans[i + 1][0])
        previous_high = high
        first = bisect_left(case_seconds, low)
        matched.append(first < len(case_seconds) and case_seconds[first] < high)
    return matched


def served_length(spans: Sequence[tuple[int, int]], rules: DualTrackRules) -> float:
    """The seconds a visit of the day needs to count as served."""
    median = statistics.median(seconds for _start, seconds in spans) if spans else 0.0
    return max(rules.service_min_seconds, rules.service_median_share * median)


def visit_hours(
    counts: dict[int, int],
    spans: Sequence[tuple[int, int]],
    case_seconds: Sequence[int],
    rules: DualTrackRules,
) -> list[HourCount]:
    """The visits method's hours: per counted hour, its served-length visits and how many of them
    were matched; an hour with cases but no camera count is listed with `visits` None (not compared)."""
    threshold = served_length(spans, rules)
    long_visits = dict.fromkeys(counts, 0)
    matched_long = dict.fromkeys(counts, 0)
    for (start, seconds), matched in zip(spans, matched_visits(spans, case_seconds, rules), strict=True):
        if seconds >= threshold:
            hour = start // HOUR
            long_visits[hour] = long_visits.get(hour, 0) + 1
            matched_long[hour] = matched_long.get(hour, 0) + matched
    uncounted: dict[int, int] = {}
    for second in case_seconds:
        hour = second // HOUR
        if hour not in counts:
            uncounted[hour] = uncounted.get(hour, 0) + 1
    hours = [HourCount(h, long_visits[h], matched_long[h]) for h in long_visits]
    hours += [HourCount(h, None, n) for h, n in uncounted.items()]
    return sorted(hours, key=lambda h: h.hour)


__all__ = ["matched_visits", "served_length", "visit_hours"]
