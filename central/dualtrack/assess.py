"""One day's verdicts for the windows the cameras counted (or some of them): the counts read in a few
set-based statements (`central.dualtrack.counts`), each window's hours by its method, its history of
the same method, and the rule. Shared by the daily judgement and the re-judgement of late counts."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from central.dualtrack import counts
from central.dualtrack.matching import Cases, Visits, hours_of_windows
from central.dualtrack.rule import History, HourCount, Method, Outcome, Verdict, judge
from central.profiles.assignment import hall_profile_keys
from common.profiles.loader import get_profile

logger = logging.getLogger(__name__)

EVIDENCE_LIMIT = 6  # snapshots a judgement links


@dataclass(frozen=True)
class Assessment:
    keys: dict[int, str]  # hall id → its profile key (halls without one: the default's)
    places: dict[int, counts.WindowPlace]
    verdicts: dict[int, tuple[Verdict, list[list[Any]]]]  # window id → verdict, [[hour, visits, cases]]
    evidence: dict[int, list[int]]  # flagged window id → snapshots in its hours over


def assess(session: Session, *, day: date, default_profile: str, only: set[int] | None = None) -> Assessment:
    """The verdict of every window counted on `day` whose hall's profile judges (or of `only` those)."""
    keys = hall_profile_keys(session, default_key=default_profile)
    enabled = {hall for hall, key in keys.items() if get_profile(key).dualtrack.enabled}
    places = counts.window_places(session)
    visits = counts.day_visits(session, day=day, windows=only)
    cases = counts.day_cases(session, day=day, windows=only)
    windows = sorted(w for w in visits if w in places and places[w].hall_id in enabled)
    history = _histories(session, day=day, halls=keys, default_profile=default_profile)
    profile_of = {w: keys.get(places[w].hall_id, default_profile) for w in windows}
    hours = _hours(visits, cases, profile_of)
    verdicts: dict[int, tuple[Verdict, list[list[Any]]]] = {}
    for window_id in windows:
        rules = get_profile(profile_of[window_id]).dualtrack
        method, window_hours = hours[window_id]
        verdicts[window_id] = (
            judge(window_hours, history.get((window_id, method.value)), rules, method),
            [[h.hour, h.visits, h.cases] for h in window_hours],
        )
    flagged = {w: v.hours_over for w, (v, _hours) in verdicts.items() if v.outcome is Outcome.FLAGGED}
    evidence = counts.evidence_in_hours(session, day=day, hours=flagged, limit=EVIDENCE_LIMIT)
    return Assessment(keys, places, verdicts, evidence)


def _hours(
    visits: dict[int, counts.WindowVisits], cases: Cases, profile_of: dict[int, str]
) -> dict[int, tuple[Method, list[HourCount]]]:
    """Per window its method and hours: the visits method where the edge reported every counted
    hour's visits (matched per profile, all its windows at once), else the counts."""
    found: dict[int, tuple[Method, list[HourCount]]] = {}
    by_profile: dict[str, list[int]] = defaultdict(list)
    by_counts = []
    for window_id, profile in profile_of.items():
        if visits[window_id].spans is not None:
            by_profile[profile].append(window_id)
        else:
            by_counts.append(window_id)
    case_hours: dict[int, dict[int, int]] = defaultdict(dict)
    if by_counts:
        keys, tallies = np.unique(cases.window * 24 + cases.second // 3600, return_counts=True)
        for key, n in zip(keys.tolist(), tallies.tolist(), strict=True):
            case_hours[key // 24][key % 24] = n
    for window_id in by_counts:
        seen, recorded = visits[window_id], case_hours.get(window_id, {})
        found[window_id] = (
            Method.COUNTS,
            [HourCount(h, seen.counts.get(h), recorded.get(h, 0)) for h in sorted({*seen.counts, *recorded})],
        )
    for profile, windows in by_profile.items():
        pieces = {w: visits[w].spans or [] for w in windows}
        mine = cases if len(by_profile) == 1 else cases.only(windows)
        matched_hours = hours_of_windows(
            {w: visits[w].counts for w in windows},
            Visits.of_pieces(pieces),
            mine,
            get_profile(profile).dualtrack,
        )
        found.update((w, (Method.VISITS, matched_hours[w])) for w in windows)
    return found


def _histories(
    session: Session, *, day: date, halls: dict[int, str], default_profile: str
) -> dict[tuple[int, str], History]:
    """Each window's history, one query per distinct look-back among the profiles in use."""
    by_lookback: dict[int, list[int]] = {}
    for hall_id, key in halls.items():
        by_lookback.setdefault(get_profile(key).dualtrack.baseline_days, []).append(hall_id)
    if not by_lookback:
        by_lookback[get_profile(default_profile).dualtrack.baseline_days] = []
    if len(by_lookback) == 1:
        return counts.histories(session, day=day, lookback_days=next(iter(by_lookback)), hall_ids=None)
    found = {}
    for lookback, hall_ids in sorted(by_lookback.items()):
        found.update(counts.histories(session, day=day, lookback_days=lookback, hall_ids=sorted(hall_ids)))
    return found


__all__ = ["EVIDENCE_LIMIT", "Assessment", "assess"]
