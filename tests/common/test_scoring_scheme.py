"""The scoring scheme as rule-profile data (issue 17 item 1): the shipped schemes say what RULES says,
and a wrong scheme is refused with every problem named at its place in the file."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from common.profiles import ProfileError, ScoringRules, get_profile
from common.profiles.loader import parse_profile
from common.profiles.scoring import RECORD_SOURCES, SHARE_SOURCES, SOURCE_UNITS, ScoreSource

HEAD = "key: x1\nversion: 1\nname: n\nsources: [SZ-18]\n"
DIMENSIONS = [
    {"code": "time_limits", "name": "期限合法", "weight": 60},
    {"code": "fees", "name": "收费", "weight": 40},
]
RED: dict[str, Any] = {"type": "per_record", "code": "red", "label": "红灯", "dimension": "time_limits"}
RED |= {"source": "red_signal", "points": -10}
SATISFACTION: dict[str, Any] = {"type": "satisfaction", "code": "s", "label": "满意度", "dimension": "fees"}
SATISFACTION |= {"full_rate": 0.95, "floor_rate": 0.6, "points_at_floor": -10}


def profile_text(scoring: object) -> str:
    return HEAD + yaml.safe_dump({"scoring": scoring}, allow_unicode=True)


def scheme(**changes: object) -> dict[str, object]:
    return {"total": 100, "dimensions": DIMENSIONS, "rules": [RED]} | changes


def refused(scoring: object) -> str:
    with pytest.raises(ProfileError) as info:
        parse_profile(profile_text(scoring), origin="test.yaml")
    return str(info.value)


def test_sichuan_carries_the_one_city_scheme_of_rules() -> None:
    scoring = get_profile("sichuan-2011").scoring
    weights = {d.name: d.weight for d in scoring.dimensions}
    assert scoring.total == 100
    assert weights == {
        "政务公开": 10, "流程规范": 14, "期限合法": 14, "收费合理": 8, "满意度": 10,
        "服务态度": 10, "监督检查": 14, "法律责任": 10, "廉洁行政": 10,
    }  # fmt: skip
    rules: dict[str, Any] = {r.code: r for r in scoring.rules}
    assert (rules["light_yellow"].points, rules["light_red"].points) == (-5, -10)
    run = rules["warnings_in_a_row"]
    assert run.type == "run" and (run.length, run.points) == (3, -3)
    early, missing = rules["early_completion"], rules["missing_data"]
    assert early.type == "per_share" and (early.step_percent, early.points, early.cap) == (10, 1, None)
    assert missing.type == "per_share" and (missing.step_percent, missing.points, missing.cap) == (1, -1, 5)
    assert rules["satisfaction"].type == "satisfaction"
    read = {r.source for r in scoring.rules}
    assert {"confirmed_absence", "patrol_finding", "rectification_overdue", "overdue_investigation"} <= read


def test_shenzhen_measures_the_eight_contents_of_sz_17_evenly() -> None:
    scoring = get_profile("shenzhen-2007").scoring
    assert [d.name for d in scoring.dimensions] == [
        "审批办理", "网上公开", "审批收费", "监督检查", "数据报送", "投诉处理", "责任追究", "满意情况",
    ]  # fmt: skip
    assert {d.weight for d in scoring.dimensions} == {12.5} and scoring.total == 100
    used = {r.dimension for r in scoring.rules}
    assert used == {d.code for d in scoring.dimensions}  # every content is measured by some rule


def test_a_profile_without_a_scheme_scores_nothing() -> None:
    scoring = get_profile("qitaihe-2008").scoring
    assert scoring == ScoringRules() and not scoring.scores
    assert parse_profile(profile_text({"rules": []}), origin="t.yaml").scoring.scores is False


def test_every_source_has_a_unit_and_one_rule_type() -> None:
    assert set(SOURCE_UNITS) == set(ScoreSource)
    assert not RECORD_SOURCES & SHARE_SOURCES
    assert set(ScoreSource) == RECORD_SOURCES | SHARE_SOURCES | {ScoreSource.SATISFACTION}


@pytest.mark.parametrize(
    ("scoring", "needles"),
    [
        pytest.param(
            scheme(dimensions=[DIMENSIONS[0] | {"weight": 55}, DIMENSIONS[1]]),
            ["scoring.dimensions: the weights add up to 95, not the total 100 (5 short)"],
            id="weights-short",
        ),
        pytest.param(
            scheme(total=90),
            ["scoring.dimensions: the weights add up to 100, not the total 90 (10 over)"],
            id="over",
        ),
        pytest.param(
            scheme(rules=[RED | {"dimension": "timelimits"}]),
            ["scoring.rules[0].dimension: rule 'red': 'timelimits' is not a dimension (time_limits, fees)"],
            id="unknown-dimension",
        ),
        pytest.param(
            {"rules": [RED]},
            ["scoring.rules[0].dimension: rule 'red': 'time_limits' is not a dimension (none"],
            id="rule-without-dimensions",
        ),
        pytest.param(
            scheme(rules=[RED, RED | {"label": "又一个"}]),
            ["scoring.rules[1].code: rule code 'red' appears twice (first at rules[0])"],
            id="duplicate-rule",
        ),
        pytest.param(
            scheme(
                dimensions=[DIMENSIONS[0] | {"weight": 50}, DIMENSIONS[0] | {"name": "另一个", "weight": 50}]
            ),
            [
                "scoring.dimensions[1].code: dimension code 'time_limits' appears twice (first at dimensions[0])"
            ],
            id="duplicate-dimension",
        ),
        pytest.param(
            scheme(rules=[RED | {"cap": -5}]),
            ["scoring.rules[0].cap: Input should be greater than 0 (a cap is a magnitude"],
            id="negative-cap",
        ),
        pytest.param(
            scheme(rules=[RED | {"cap": 61}]),
            ["scoring.rules[0].cap: rule 'red': cap 61 is more than dimension 'time_limits''s weight 60"],
            id="cap-over-weight",
        ),
        pytest.param(
            scheme(rules=[RED | {"colour": "red"}]), ["scoring.rules[0].colour: Extra"], id="unknown-key"
        ),
        pytest.param(
            scheme(bonus=3), ["scoring.bonus: Extra inputs are not permitted"], id="unknown-top-key"
        ),
        pytest.param(
            scheme(dimensions=[DIMENSIONS[0] | {"label": "x"}, DIMENSIONS[1]]),
            ["scoring.dimensions[0].label: Extra"],
            id="unknown-dimension-key",
        ),
        pytest.param(
            scheme(rules=[RED | {"type": "per_case"}]),
            ["scoring.rules[0]: Input tag 'per_case' found using 'type' does not match", "'satisfaction'"],
            id="unknown-type",
        ),
        pytest.param(
            scheme(rules=[RED | {"source": "red_light"}]), ["scoring.rules[0].source: Input"], id="bad-src"
        ),
        pytest.param(
            scheme(rules=[RED | {"source": "missing_data"}]),
            ["scoring.rules[0].source: this rule type counts records; missing_data is not one of"],
            id="share-source-counted",
        ),
        pytest.param(
            scheme(rules=[RED | {"points": 0}]), ["scoring.rules[0].points: points must not be 0"], id="0"
        ),
        pytest.param(
            scheme(rules=[RED | {"points": -101}]), ["scoring.rules[0].points: Input should be"], id="big"
        ),
        pytest.param(
            scheme(rules=[RED | {"levels": ["staff", "staff"]}]),
            ["scoring.rules[0].levels[1]: level 'staff' appears twice"],
            id="duplicate-level",
        ),
        pytest.param(
            scheme(rules=[RED | {"levels": []}]), ["scoring.rules[0].levels: List should have"], id="nobody"
        ),
        pytest.param(
            scheme(rules=[RED | {"levels": ["city"]}]), ["scoring.rules[0].levels[0]: Input"], id="level"
        ),
        pytest.param(
            scheme(rules=[RED | {"source": "bad_rating", "reasons": ["light_red"]}]),
            ["scoring.rules[0].reasons: reasons narrow signal sources only, not bad_rating"],
            id="reasons-off-signals",
        ),
        pytest.param(
            scheme(rules=[RED | {"categories": ["phone"]}]),
            ["scoring.rules[0].categories: categories narrow patrol_finding only"],
            id="categories-off-patrols",
        ),
        pytest.param(
            scheme(rules=[RED | {"source": "patrol_finding", "categories": ["phone", "napping"]}]),
            ["scoring.rules[0].categories[1]: Input should be"],
            id="unknown-category",
        ),
        pytest.param(
            scheme(rules=[RED | {"reasons": ["Light Red"]}]), ["scoring.rules[0].reasons[0]"], id="reason"
        ),
        pytest.param(
            scheme(rules=[RED | {"type": "run", "length": 1}]),
            ["scoring.rules[0].length: Input should be greater than or equal to 2"],
            id="run-of-one",
        ),
        pytest.param(
            scheme(rules=[RED | {"type": "per_share", "source": "early_completion", "step_percent": 0}]),
            ["scoring.rules[0].step_percent: Input should be greater than 0"],
            id="zero-step",
        ),
        pytest.param(
            scheme(rules=[RED | {"type": "per_share", "step_percent": 10}]),
            ["scoring.rules[0].source: this rule type reads a share of cases; red_signal is not one of"],
            id="record-source-shared",
        ),
        pytest.param(
            scheme(
                rules=[{k: v for k, v in SATISFACTION.items() if k not in {"full_rate", "points_at_floor"}}]
            ),
            [
                "scoring.rules[0].full_rate: Field required",
                "scoring.rules[0].points_at_floor: Field required",
            ],
            id="satisfaction-incomplete",
        ),
        pytest.param(
            scheme(rules=[SATISFACTION | {"full_rate": 0.6, "floor_rate": 0.9, "points_at_floor": 0}]),
            [
                "scoring.rules[0].floor_rate: floor_rate 0.9 must be below full_rate 0.6",
                "scoring.rules[0].points_at_floor: points_at_floor equals points_at_full",
            ],
            id="satisfaction-upside-down",
        ),
        pytest.param(
            scheme(rules=[SATISFACTION | {"full_rate": 1.5}]),
            ["rules[0].full_rate: Input should be"],
            id="rate",
        ),
        pytest.param(
            scheme(rules=[SATISFACTION | {"source": "bad_rating"}]),
            ["scoring.rules[0].source: Input should be 'satisfaction'"],
            id="satisfaction-source",
        ),
        pytest.param(scheme(total=0), ["scoring.total: Input should be greater than 0"], id="no-total"),
        pytest.param(
            scheme(total="lots"), ["scoring.total: Input should be a valid number"], id="garbage-total"
        ),
        pytest.param(
            scheme(rules="all of them"), ["scoring.rules: Input should be a valid list"], id="garbage-rules"
        ),
        pytest.param(
            scheme(rules=[["red"]]), ["scoring.rules[0]: Input should be a valid dictionary"], id="list"
        ),
        pytest.param([1, 2], ["scoring: Input should be a valid dictionary"], id="garbage-scheme"),
    ],
)
def test_a_wrong_scheme_is_refused_at_its_place(scoring: object, needles: list[str]) -> None:
    message = refused(scoring)
    assert message.startswith("test.yaml: ")
    for needle in needles:
        assert needle in message


def test_every_problem_of_a_scheme_is_named_at_once() -> None:
    bad = scheme(
        total=90,
        rules=[
            RED | {"dimension": "nowhere"},
            RED | {"cap": 70},
            RED | {"code": "other", "dimension": "fees"},
        ],
    )
    message = refused(bad)
    for place in (
        "scoring.dimensions:",
        "scoring.rules[0].dimension:",
        "scoring.rules[1].code:",
        "rules[1].cap:",
    ):
        assert place in message
