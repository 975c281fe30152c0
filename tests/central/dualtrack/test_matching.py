"""The visits method's matching, as tables: which visit a case belongs to, and the hours it makes."""

from __future__ import annotations

import pytest

from central.dualtrack.matching import matched_visits, served_length, visit_hours
from central.dualtrack.rule import HourCount
from common.profiles.loader import DEFAULT_PROFILE_KEY, get_profile

RULES = get_profile(DEFAULT_PROFILE_KEY).dualtrack.model_copy(
    update={
        "match_before_seconds": 120,
        "match_after_seconds": 600,
        "service_min_seconds": 60,
        "service_median_share": 0.5,
    }
)
NINE = 9 * 3600


@pytest.mark.parametrize(
    ("spans", "cases", "expected"),
    [
        ([], [NINE], []),
        ([(NINE, 600)], [], [False]),
        ([(NINE, 600)], [NINE + 300], [True]),  # entered during the visit
        ([(NINE, 600)], [NINE - 120], [True]),  # opened as the citizen approached
        ([(NINE, 600)], [NINE - 121], [False]),  # …but not earlier
        ([(NINE, 600)], [NINE + 600 + 599], [True]),  # finished after they left
        ([(NINE, 600)], [NINE + 600 + 600], [False]),
        # The next citizen sat down 100 s after the first left: the gap is the first visit's (the
        # clerk finishing its entry), the second's begins as they sit down; one case, one visit.
        ([(NINE, 600), (NINE + 700, 400)], [NINE + 690], [True, False]),
        ([(NINE, 600), (NINE + 700, 400)], [NINE + 690, NINE + 700], [True, True]),
        # A long gap: the second visit's case opened as the citizen approached.
        ([(NINE, 600), (NINE + 2000, 400)], [NINE + 1900], [False, True]),
        # Two cases in one visit (a second case) do not cover the next visit.
        ([(NINE, 600), (NINE + 700, 400)], [NINE + 100, NINE + 200], [True, False]),
        # Back to back: the second visit begins before the first's widening ends.
        ([(NINE, 300), (NINE + 300, 300)], [NINE + 250], [True, False]),
        ([(NINE, 300), (NINE + 300, 300)], [NINE + 350], [False, True]),
    ],
)
def test_a_case_belongs_to_the_visit_it_was_entered_during(
    spans: list[tuple[int, int]], cases: list[int], expected: list[bool]
) -> None:
    assert matched_visits(spans, cases, RULES) == expected


def test_the_hours_count_served_length_visits_and_the_matched_among_them() -> None:
    """The median visit is 350 s: 175 s or longer is served-length."""
    spans = [
        (NINE + 60, 120),  # an enquiry: not in the test
        (NINE + 600, 300),  # served, its case entered
        (NINE + 3000, 700),  # served, its case entered at 10:00 in the next hour: counts in 09
        (10 * 3600 + 900, 400),  # served, nothing entered: the excess
    ]
    cases = [NINE + 700, 10 * 3600 + 100, 15 * 3600]  # 15:00: a case with no camera count that hour
    hours = visit_hours({9: 3, 10: 1}, spans, cases, RULES)
    assert hours == [HourCount(9, 2, 2), HourCount(10, 1, 0), HourCount(15, None, 1)]


def test_an_hour_without_visits_is_still_counted() -> None:
    assert visit_hours({9: 0, 10: 1}, [(10 * 3600, 300)], [], RULES) == [
        HourCount(9, 0, 0),
        HourCount(10, 1, 0),
    ]


@pytest.mark.parametrize(
    ("lengths", "expected"),
    [
        ([], float("inf")),  # no visit at all: nothing is served-length
        ([20, 30, 600, 600], 300),  # sits shorter than a minute set no pace
        ([100, 100, 100], 60),  # half the median is 50 s: the one-minute floor holds
        ([600, 600, 120], 300),  # a slow window: half its 10-minute median
        ([120, 130, 140, 150, 2000], 70),  # one very long visit moves the median little
    ],
)
def test_served_length_is_half_the_windows_median_visit(lengths: list[int], expected: float) -> None:
    """Half the median of the window's sits of a minute or more, and a minute at least."""
    assert served_length([(NINE + 3600 * i, s) for i, s in enumerate(lengths)], RULES) == expected
