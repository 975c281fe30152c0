"""Points from one rule and one subject's figures (common.profiles.points): every rule type against a
hand-computed table, garbage figures refused, and the bounds held for any input (hypothesis)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from common.profiles import get_profile
from common.profiles.points import (
    Figures,
    clamp_dimension,
    dimension_scores,
    runs_completed,
    score_rule,
    signed,
)
from common.profiles.scoring import PerShareRule, SatisfactionRule, ScoringRule, ScoringRules

RULE = TypeAdapter(ScoringRule)


def rule(**fields: Any) -> Any:
    return RULE.validate_python({"code": "r", "label": "规则", "dimension": "d"} | fields)


SICHUAN = {r.code: r for r in get_profile("sichuan-2011").scoring.rules}
SHENZHEN = {r.code: r for r in get_profile("shenzhen-2007").scoring.rules}


@pytest.mark.parametrize(
    ("code", "figures", "points", "explanation"),
    [
        ("light_red", Figures(records=2), -20, "红灯 2 件 × −10 = −20"),
        ("light_yellow", Figures(records=1), -5, "黄灯 1 件 × −5 = −5"),
        ("light_yellow", Figures(), 0, "黄灯 0 件 × −5 = 0"),
        ("confirmed_absence", Figures(records=3), -6, "擅离岗位 3 次 × −2 = −6"),
        ("patrol_attitude", Figures(records=1), -2, "巡查发现服务态度问题 1 项 × −2 = −2"),
        ("rectification_overdue", Figures(records=2), -4, "差评整改超期 2 件 × −2 = −4"),
        ("overdue_investigation", Figures(records=1), -3, "核查超期未报 1 件 × −3 = −3"),
        ("complaint_upheld", Figures(records=1), -3, "投诉属实 1 件 × −3 = −3"),
        ("warnings_in_a_row", Figures(runs=2), -6, "连续预警 2 次（连续 3 个工作日）× −3 = −6"),
        (
            "early_completion",
            Figures(hits=36, cases=120),
            3,
            "提前办结 36/120 件 = 30%，每 10% +1，3 档 = +3",
        ),
        ("early_completion", Figures(hits=3, cases=10), 3, "提前办结 3/10 件 = 30%，每 10% +1，3 档 = +3"),
        (
            "early_completion",
            Figures(hits=19, cases=100),
            1,
            "提前办结 19/100 件 = 19%，每 10% +1，1 档 = +1",
        ),
        ("early_completion", Figures(hits=0, cases=0), 0, "提前办结 共 0 件，不足 1 件，不计分"),
        ("missing_data", Figures(hits=3, cases=200), -1, "数据缺项 3/200 件 = 1.5%，每 1% −1，1 档 = −1"),
        (
            "missing_data",
            Figures(hits=9, cases=100),
            -5,
            "数据缺项 9/100 件 = 9%，每 1% −1，9 档 = −9（本月上限 −5，此前已计 0，本次计 −5）",
        ),
        (
            "missing_data",
            Figures(hits=7, cases=100, month_so_far=-3),
            -2,
            "数据缺项 7/100 件 = 7%，每 1% −1，7 档 = −7（本月上限 −5，此前已计 −3，本次计 −2）",
        ),
        (
            "missing_data",
            Figures(hits=2, cases=100, month_so_far=-5),
            0,
            "数据缺项 2/100 件 = 2%，每 1% −1，2 档 = −2（本月上限 −5，此前已计 −5，本次计 0）",
        ),
        (
            "missing_data",
            Figures(hits=4, cases=100, month_so_far=-1),
            -4,
            "数据缺项 4/100 件 = 4%，每 1% −1，4 档 = −4",
        ),
        (
            "satisfaction",
            Figures(rate=0.825, ratings=40),
            -3.57,
            "满意度 好评率 82.5%（40 条评价）：95% 及以上 0，60% 及以下 −10，计 −3.57",
        ),
        (
            "satisfaction",
            Figures(rate=1.0, ratings=5),
            0,
            "满意度 好评率 100%（5 条评价）：95% 及以上 0，60% 及以下 −10，计 0",
        ),
        (
            "satisfaction",
            Figures(rate=0.2, ratings=9),
            -10,
            "满意度 好评率 20%（9 条评价）：95% 及以上 0，60% 及以下 −10，计 −10",
        ),
        (
            "satisfaction",
            Figures(rate=0.6, ratings=9),
            -10,
            "满意度 好评率 60%（9 条评价）：95% 及以上 0，60% 及以下 −10，计 −10",
        ),
        ("satisfaction", Figures(rate=0.1, ratings=4), 0, "满意度 评价 4 条，不足 5 条，不计分"),
        ("satisfaction", Figures(rate=None, ratings=0), 0, "满意度 评价 0 条，不足 5 条，不计分"),
    ],
)
def test_each_rule_type_of_the_sichuan_scheme(
    code: str, figures: Figures, points: float, explanation: str
) -> None:
    answer = score_rule(SICHUAN[code], figures)
    assert (answer.points, answer.explanation) == (points, explanation)
    assert answer.capped == ("本月上限" in explanation)


def test_shenzhen_satisfaction_takes_its_whole_weight_at_the_floor() -> None:
    assert score_rule(SHENZHEN["satisfaction"], Figures(rate=0.5, ratings=50)).points == -12.5


@pytest.mark.parametrize(
    ("fields", "figures", "points"),
    [
        ({"type": "per_record", "source": "bad_rating", "points": 0.5, "cap": 1}, Figures(records=3), 1),
        ({"type": "per_record", "source": "bad_rating", "points": -0.25}, Figures(records=3), -0.75),
        ({"type": "per_record", "source": "warning", "points": 2, "cap": 3}, Figures(records=1, month_so_far=-4), 2),
        ({"type": "per_record", "source": "warning", "points": -2, "cap": 3}, Figures(records=1, month_so_far=7), -2),
        ({"type": "per_share", "source": "early_completion", "step_percent": 0.1, "points": 1}, Figures(hits=3, cases=1000), 3),
        ({"type": "per_share", "source": "missing_data", "step_percent": 33.3, "points": -1}, Figures(hits=1, cases=3), -1),
        ({"type": "per_share", "source": "missing_data", "step_percent": 5, "points": -1, "min_cases": 20},
         Figures(hits=19, cases=19), 0),
        ({"type": "run", "source": "confirmed_absence", "length": 2, "points": -1.5}, Figures(runs=3), -4.5),
        ({"type": "satisfaction", "full_rate": 0.9, "floor_rate": 0.5, "points_at_full": 2, "points_at_floor": -2,
          "min_ratings": 1}, Figures(rate=0.7, ratings=1), 0),
        ({"type": "satisfaction", "full_rate": 0.9, "floor_rate": 0.5, "points_at_full": 2, "points_at_floor": -2,
          "min_ratings": 1}, Figures(rate=0.95, ratings=1), 2),
    ],
)  # fmt: skip
def test_other_shapes_of_rules(fields: dict[str, Any], figures: Figures, points: float) -> None:
    """Fractions of points, exact share steps (0.3 % of 1000 at 0.1 % is 3 steps, not 2.999…), bonus
    caps, and a cap never turning a line's sign round (an engine that summed the month wrongly)."""
    assert score_rule(rule(**fields), figures).points == points


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"records": -1}, "records must be a whole number"),
        ({"runs": 1.5}, "runs must be a whole number"),
        ({"records": True}, "records must be a whole number"),
        ({"cases": "7"}, "cases must be a whole number"),
        ({"hits": 5, "cases": 4}, "hits (5) cannot exceed cases (4)"),
        ({"rate": 1.01}, "rate must lie in 0..1"),
        ({"rate": -0.1}, "rate must lie in 0..1"),
        ({"rate": math.nan}, "rate must lie in 0..1"),
        ({"month_so_far": math.inf}, "month_so_far must be a finite number"),
        ({"month_so_far": math.nan}, "month_so_far must be a finite number"),
    ],
)
def test_garbage_figures_are_refused(fields: dict[str, Any], why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("(", r"\(").replace(")", r"\)")):
        Figures(**fields)


@pytest.mark.parametrize(
    ("weight", "change", "score"),
    [
        (14, 0, 14),
        (14, -20, 0),
        (14, -3.5, 10.5),
        (14, 5, 14),
        (8, -8, 0),
        (12.5, -0.004, 12.5),
        (10, -9.999, 0),
    ],
)
def test_a_dimension_stays_between_0_and_its_weight(weight: float, change: float, score: float) -> None:
    assert clamp_dimension(weight, change) == score


@pytest.mark.parametrize(
    ("weight", "change"), [(0, 1), (-1, 0), (math.nan, 0), (10, math.inf), (10, math.nan)]
)
def test_clamp_refuses_garbage(weight: float, change: float) -> None:
    with pytest.raises(ValueError, match="weight > 0"):
        clamp_dimension(weight, change)


def test_dimension_scores_name_every_dimension_and_refuse_strangers() -> None:
    scheme = get_profile("sichuan-2011").scoring
    scores = dimension_scores(scheme, {"time_limits": -20, "fees": -3})
    assert scores["time_limits"] == 0 and scores["fees"] == 5 and scores["integrity"] == 10
    assert sum(scores.values()) == 100 - 14 - 3
    with pytest.raises(ValueError, match="not dimensions of the scheme: timelimits"):
        dimension_scores(scheme, {"timelimits": -1})


@pytest.mark.parametrize(
    ("before", "after", "length", "runs"),
    [(0, 3, 3, 1), (2, 3, 3, 1), (3, 4, 3, 0), (5, 6, 3, 1), (0, 7, 3, 2), (0, 0, 3, 0)],
)
def test_runs_completed_count_each_multiple_of_the_length_once(
    before: int, after: int, length: int, runs: int
) -> None:
    assert runs_completed(before, after, length) == runs


def test_runs_completed_refuses_a_shrinking_streak() -> None:
    with pytest.raises(ValueError, match="before ≤ after"):
        runs_completed(4, 3, 3)


@pytest.mark.parametrize(
    ("value", "text"), [(-20, "−20"), (3, "+3"), (0, "0"), (-0.0, "0"), (-3.567, "−3.57"), (12.5, "+12.5")]
)
def test_figures_are_printed_with_their_sign(value: float, text: str) -> None:
    assert signed(value) == text


WEIGHTS = st.lists(st.integers(min_value=1, max_value=400).map(lambda q: q / 4), min_size=1, max_size=12)


@given(WEIGHTS, st.data())
def test_clamped_totals_stay_within_0_and_the_total(weights: list[float], data: st.DataObject) -> None:
    dimensions = [{"code": f"d{i}", "name": f"维度{i}", "weight": w} for i, w in enumerate(weights)]
    scheme = ScoringRules.model_validate({"total": sum(weights), "dimensions": dimensions})
    changes = {
        d.code: data.draw(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
        for d in scheme.dimensions
    }
    scores = dimension_scores(scheme, changes)
    assert all(0 <= scores[d.code] <= d.weight for d in scheme.dimensions)
    assert 0 <= sum(scores.values()) <= scheme.total + 1e-9


SHARE_RULES = st.builds(
    lambda source, step, points, cap: rule(
        type="per_share", source=source, step_percent=step, points=points, cap=cap
    ),
    st.sampled_from(["early_completion", "missing_data"]),
    st.sampled_from([0.5, 1, 2.5, 5, 10, 33.3, 50, 100]),
    st.sampled_from([-5, -1, -0.5, 0.25, 1, 3]),
    st.one_of(st.none(), st.sampled_from([0.5, 1, 5, 10])),
)


@given(SHARE_RULES, st.integers(min_value=1, max_value=5000), st.data())
def test_a_share_rule_is_monotone_in_the_share_and_never_passes_its_cap(
    share_rule: PerShareRule, cases: int, data: st.DataObject
) -> None:
    low = data.draw(st.integers(min_value=0, max_value=cases))
    high = data.draw(st.integers(min_value=low, max_value=cases))
    first, second = (score_rule(share_rule, Figures(hits=h, cases=cases)).points for h in (low, high))
    if share_rule.points > 0:
        assert 0 <= first <= second
    else:
        assert 0 >= first >= second
    if share_rule.cap is not None:
        assert abs(second) <= share_rule.cap


@given(
    st.sampled_from(["per_record", "run"]),
    st.floats(min_value=-10, max_value=10).filter(lambda p: abs(p) >= 0.01),
    st.floats(min_value=0.5, max_value=14),
    st.lists(st.integers(min_value=0, max_value=50), max_size=25),
)
def test_a_capped_rule_adds_up_over_a_month_to_at_most_its_cap(
    kind: str, points: float, cap: float, days: list[int]
) -> None:
    """The lines of a month, each given what the rule already gave, never pass the cap together."""
    capped = rule(
        type=kind, source="warning", points=points, cap=cap, **({"length": 3} if kind == "run" else {})
    )
    so_far = 0.0
    for count in days:
        answer = score_rule(capped, Figures(records=count, runs=count, month_so_far=so_far))
        assert answer.points * points >= 0  # a line keeps the rule's sign
        assert answer.explanation.startswith("规则 ")
        so_far = round(so_far + answer.points, 2)
    assert abs(so_far) <= cap + 1e-9


@given(st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=1))
def test_satisfaction_points_are_monotone_and_between_floor_and_full(a: float, b: float) -> None:
    low, high = sorted((a, b))
    sat = SICHUAN["satisfaction"]
    assert isinstance(sat, SatisfactionRule)
    first, second = (score_rule(sat, Figures(rate=r, ratings=10)).points for r in (low, high))
    assert sat.points_at_floor <= first <= second <= sat.points_at_full
