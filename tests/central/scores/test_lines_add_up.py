"""Properties of a subject's month, over random days of records (no database: `score_subject` is pure):
the day's explained lines add up to the day's change, the scheme's total plus every line of the month
so far is the score, and every dimension stays within [0, its weight]."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from central.scores.lines import DayFigures, SubjectRef, score_subject
from central.scores.sources import Record
from common.profiles import shipped_profiles
from common.profiles.scoring import ScoreSource

SCHEMES = {key: p.scoring for key, p in shipped_profiles().items() if p.scoring.scores}
REASONS = ["light_yellow", "light_red", "late_decision", "unlawful_fees", "staff_absent", "other_minor"]
CATEGORIES = ["absent", "phone", "attitude", "other"]
SOURCES = [
    s
    for s in ScoreSource
    if s not in {ScoreSource.EARLY_COMPLETION, ScoreSource.MISSING_DATA, ScoreSource.SATISFACTION}
]


@st.composite
def records(draw: st.DrawFn) -> Record:
    source = draw(st.sampled_from(SOURCES))
    tag = draw(st.sampled_from(CATEGORIES if source is ScoreSource.PATROL_FINDING else REASONS))
    return Record(source, tag, "signal", draw(st.integers(1, 10_000)), 1, 1, 1, 1)


@st.composite
def days(draw: st.DrawFn) -> DayFigures:
    closed = draw(st.integers(0, 40))
    ratings = draw(st.integers(0, 30))
    weight = float(ratings)
    return DayFigures(
        records=draw(st.lists(records(), max_size=6)),
        closed=closed,
        early=draw(st.integers(0, closed)),
        missing=draw(st.integers(0, closed)),
        ratings=ratings,
        weight=weight,
        good_weight=draw(st.floats(0, weight)) if ratings else 0.0,
    )


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(sorted(SCHEMES)),
    kind=st.sampled_from(["staff", "window", "department", "hall"]),
    month=st.lists(st.tuples(days(), st.booleans()), min_size=1, max_size=31),
)
def test_the_lines_add_up_to_the_score(key: str, kind: str, month: list[tuple[DayFigures, bool]]) -> None:
    scheme = SCHEMES[key]
    ref = SubjectRef(kind, 1, 1, 1, key)  # type: ignore[arg-type]
    state = None
    booked = 0.0
    first = date(2026, 3, 1)
    for offset, (figures, workday) in enumerate(month):
        score = score_subject(
            ref,
            scheme=scheme,
            figures=figures,
            state=state,
            day=first + timedelta(days=offset),
            workday=workday,
        )
        day_sum = sum(line.points for line in score.lines)
        assert math.isclose(score.day_points, day_sum, abs_tol=0.011)
        booked += day_sum
        assert math.isclose(score.month_score, scheme.total + booked, abs_tol=0.011 * (offset + 1) * 3)
        assert math.isclose(score.month_score, sum(score.dimensions.values()), abs_tol=0.011)
        for dimension in scheme.dimensions:
            assert -1e-9 <= score.dimensions[dimension.code] <= dimension.weight + 1e-9
        assert all(line.explanation for line in score.lines)
        state = score.state


def test_a_new_month_starts_from_full_marks_but_keeps_the_streak() -> None:
    scheme = SCHEMES["sichuan-2011"]
    ref = SubjectRef("staff", 1, 1, 1, "sichuan-2011")
    warning = Record(ScoreSource.WARNING, "light_yellow", "signal", 1, 1, 1, 1, 1)
    yellow = Record(ScoreSource.YELLOW_SIGNAL, "light_yellow", "signal", 1, 1, 1, 1, 1)
    state = None
    for day in (date(2026, 3, 30), date(2026, 3, 31)):
        state = score_subject(
            ref,
            scheme=scheme,
            figures=DayFigures(records=[warning, yellow]),
            state=state,
            day=day,
            workday=True,
        ).state
    april = score_subject(
        ref,
        scheme=scheme,
        figures=DayFigures(records=[warning]),
        state=state,
        day=date(2026, 4, 1),
        workday=True,
    )
    assert [line.rule_code for line in april.lines] == ["warnings_in_a_row"]  # the 3rd day running
    assert april.month_score == 100 - 3
