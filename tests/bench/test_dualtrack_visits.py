"""The dual-track benchmark's generated visit days: the vectorised statistic it uses for the baseline
is the production matching's, window for window, and the days look like what they claim."""

from __future__ import annotations

import numpy as np

from bench.dualtrack_days import draw_windows
from bench.dualtrack_visits import SIT_MIN_SECONDS, draw_visit_day, visit_statistic
from central.dualtrack.matching import visit_hours
from common.profiles.loader import DEFAULT_PROFILE_KEY, get_profile

RULES = get_profile(DEFAULT_PROFILE_KEY).dualtrack


def test_the_vectorised_statistic_is_the_production_matching() -> None:
    rng = np.random.default_rng(3)
    windows = draw_windows(rng, 200, median_visits=100)
    for unrecorded in (0.0, 0.2):
        day = draw_visit_day(rng, windows, unrecorded=unrecorded)
        long, matched = visit_statistic(day, RULES)
        for w in range(200):
            mine = day.visit_window == w
            spans = list(zip(day.visit_start[mine].tolist(), day.visit_seconds[mine].tolist(), strict=True))
            cases = day.case_second[day.case_window == w].tolist()
            counts = {start // 3600: 1 for start, _seconds in spans}
            for hour in visit_hours(counts, spans, cases, RULES):
                if hour.visits is not None:
                    assert (hour.visits, hour.cases) == (long[w, hour.hour], matched[w, hour.hour]), (w, hour)


def test_a_fifth_unrecorded_leaves_more_long_visits_without_a_case() -> None:
    rng = np.random.default_rng(4)
    windows = draw_windows(rng, 2000, median_visits=100)
    shares = []
    for unrecorded in (0.0, 0.2):
        day = draw_visit_day(rng, windows, unrecorded=unrecorded)
        assert day.visit_seconds.min() >= SIT_MIN_SECONDS
        assert np.all(np.diff(day.case_window * 100_000 + day.case_second) >= 0)  # sorted as searched
        long, matched = visit_statistic(day, RULES)
        shares.append(1 - matched.sum() / long.sum())
    assert shares[0] < 0.1 and shares[1] - shares[0] > 0.12, shares
