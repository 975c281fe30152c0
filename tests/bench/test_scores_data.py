"""The scores benchmark's data set (bench.scores_province, `--small`): it loads through the real
schema, the scored day holds every kind of record the issue names, and the engine scores it the same
in one pass and one staff member at a time. No timings here: bench.scores measures."""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from sqlalchemy import Engine

from bench.scores import _compute, _lines_of
from bench.scores_data import SCORE_DAY, Scale
from bench.scores_province import Province, build, day_figures
from central.core.db import make_session_factory

logger = logging.getLogger(__name__)

NON_EMPTY = [
    "cases closed on the day",
    "… early (before the promised due date)",
    "… late",
    "… without window or clerk",
    "signals issued: light_yellow",
    "signals issued: light_red",
    "signals issued: other reasons",
    "signals escalated to red",
    "signals closed with a fault finding",
    "ratings",
    "… 差评 (levels 1–2)",
    "follow-ups due the day before, not rectified",
    "absences confirmed",
    "patrol findings confirmed",
]


SMALL = Scale().small()


@pytest.fixture
def province(db: Engine) -> Province:
    return build(db, SMALL, SCORE_DAY)


def test_the_scored_day_holds_every_kind_of_record(db: Engine, province: Province) -> None:
    figures = day_figures(db, province)
    assert province.previous == SCORE_DAY.replace(day=29)
    assert figures["cases open"] == SMALL.open_cases
    assert figures["cases closed on the day"] == SMALL.closed_per_day
    assert figures["ratings"] == SMALL.ratings_per_day
    assert [label for label in NON_EMPTY if figures[label] == 0] == []


def test_one_pass_and_one_staff_member_at_a_time_agree(db: Engine, province: Province) -> None:
    with make_session_factory(db)() as session:
        scores = _compute(session, SCORE_DAY)
        batch = _lines_of(scores)
        kinds = Counter(line.source_kind for subject in scores.subjects for line in subject.lines)
        for subject in scores.subjects:
            assert round(sum(line.points for line in subject.lines), 2) == subject.day_points
        staff = sorted(subject_id for kind, subject_id in batch if kind == "staff")
        assert len(staff) == SMALL.staff
        busy = sorted(staff, key=lambda s: -len(batch[("staff", s)]))[:5]
        for staff_id in busy:
            alone = _lines_of(_compute(session, SCORE_DAY, ("staff", staff_id)))
            assert alone == {("staff", staff_id): batch[("staff", staff_id)]}
    assert {"signal", "follow_up", "absence", "patrol_finding", "case_share", "satisfaction"} <= set(kinds)
