"""The performance scoring scheme of a rule profile (QTH-3, SZ-16..18): dimensions and rules, as data.

A scheme has a monthly **total** (e.g. 100 points) split into **dimensions** (政务公开 10, 流程规范
14 …) whose weights add up to the total. Each **rule** reads one kind of record the system keeps
(`ScoreSource`) and turns it into points against one dimension: per record (−10 per red), per step
of a share of cases (+1 per 10 % finished early), per run (−3 for 3 warnings in a row) or from the
weighted satisfaction rate. Points are computed by `common.profiles.points`.

How a score follows: every dimension starts the month at its weight (full marks); deductions take
points off, bonuses give them back; **a dimension's score is clamped to [0, weight]**, so a bonus
never lifts a dimension above full marks and a bad month never takes it below 0, and the total
always lies in [0, total]. A rule's optional **cap** bounds what that one rule gives in a month
(a magnitude: `cap: 5` on a deduction means at most −5); it is never more than its dimension's
weight, which the clamp bounds already.

**No scheme by default.** A profile without `scoring` gets the empty scheme (no dimensions, no
rules): it scores nothing, and its halls publish no scores. A made-up default would put numbers
on people that no rule of their locality sets (QTH part 2: each locality sets its own standard);
a profile that scores says so explicitly.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from common.findings import Finding, Loc, raise_findings
from common.profiles.base import StrictModel

logger = logging.getLogger(__name__)

SCORE_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
ScoreCode = Annotated[str, Field(pattern=SCORE_CODE_PATTERN, description="snake_case, ≤ 40 characters.")]
ScoreLevel = Literal["staff", "window", "department", "hall"]
SCORE_LEVELS: tuple[ScoreLevel, ...] = ("staff", "window", "department", "hall")
# The categories of a patrol finding (central.patrols.findings_kinds.FindingCategory, mirrored here
# because common never imports central; tests/central/profiles checks that the two agree).
PatrolFindingCategory = Literal["absent", "phone", "eating", "sleeping", "attitude", "dress", "other"]
Points = Annotated[float, Field(ge=-100, le=100)]
# A deployment keeps its total well under this; the bound only refuses nonsense.
MAX_TOTAL = 1000


class ScoreSource(StrEnum):
    """The kinds of record a rule reads: what the system records (or will, for complaints)."""

    # Records, counted one by one (rule types per_record and run).
    WARNING = "warning"  # a signal issued, of any colour (预警: green SZ-10, yellow, red)
    YELLOW_SIGNAL = "yellow_signal"  # a yellow signal issued (SZ-11; a yellow light, QTH-2)
    RED_SIGNAL = "red_signal"  # a signal turned red: issued red (SZ-12, a red light) or a yellow escalated
    FAULT_FINDING = "fault_finding"  # a signal or investigation closed with the finding "fault" (SZ-13)
    OVERDUE_INVESTIGATION = "overdue_investigation"  # not reported by its due date (SC-9)
    BAD_RATING = "bad_rating"  # a 差评 received and not excluded (HCP)
    RECTIFICATION_OVERDUE = "rectification_overdue"  # a 差评 not rectified by its deadline (HCP)
    CONFIRMED_ABSENCE = "confirmed_absence"  # an absence (离岗) the cameras saw, confirmed (SC-6.1)
    PATROL_FINDING = "patrol_finding"  # a video patrol's finding, confirmed on review (SC-6.1, SC-7)
    COMPLAINT_UPHELD = "complaint_upheld"  # a complaint found justified (SZ-14..15; not recorded yet)
    COMPLAINT_OVERDUE = "complaint_overdue"  # not decided within its limit (SZ-14; not recorded yet)
    # Shares of the subject's cases (rule type per_share).
    EARLY_COMPLETION = "early_completion"  # cases completed before the day they were due
    MISSING_DATA = "missing_data"  # cases lacking data the rules need (SZ-17(5) data reporting)
    # The weighted 好评率 of the subject's ratings (rule type satisfaction; central.ratings.figures).
    SATISFACTION = "satisfaction"


RECORD_SOURCES = frozenset(
    {
        ScoreSource.WARNING,
        ScoreSource.YELLOW_SIGNAL,
        ScoreSource.RED_SIGNAL,
        ScoreSource.FAULT_FINDING,
        ScoreSource.OVERDUE_INVESTIGATION,
        ScoreSource.BAD_RATING,
        ScoreSource.RECTIFICATION_OVERDUE,
        ScoreSource.CONFIRMED_ABSENCE,
        ScoreSource.PATROL_FINDING,
        ScoreSource.COMPLAINT_UPHELD,
        ScoreSource.COMPLAINT_OVERDUE,
    }
)
SHARE_SOURCES = frozenset({ScoreSource.EARLY_COMPLETION, ScoreSource.MISSING_DATA})
SIGNAL_SOURCES = frozenset({ScoreSource.WARNING, ScoreSource.YELLOW_SIGNAL, ScoreSource.RED_SIGNAL})
# The unit an explanation counts records of a source in.
SOURCE_UNITS: dict[ScoreSource, str] = {
    **{source: "件" for source in RECORD_SOURCES | SHARE_SOURCES},
    ScoreSource.BAD_RATING: "条",
    ScoreSource.CONFIRMED_ABSENCE: "次",
    ScoreSource.PATROL_FINDING: "项",
    ScoreSource.SATISFACTION: "条",
}


class Dimension(StrictModel):
    code: ScoreCode = Field(description="Stable id of the dimension, e.g. time_limits.")
    name: str = Field(min_length=1, max_length=20, description="Its zh-CN name, e.g. 期限合法.")
    weight: float = Field(gt=0, le=MAX_TOTAL, description="Its full marks in a month, in points.")


class _Rule(StrictModel):
    code: ScoreCode = Field(description="Stable id of the rule; the explained lines name it.")
    label: str = Field(
        min_length=1, max_length=30, description="zh-CN label shown on every explained line, e.g. 红灯."
    )
    dimension: ScoreCode = Field(description="The code of the dimension the points count against.")
    levels: list[ScoreLevel] = Field(
        default_factory=lambda: list(SCORE_LEVELS),
        min_length=1,
        max_length=4,
        description="The subjects scored by the rule: staff, window, department, hall.",
    )
    cap: float | None = Field(
        default=None,
        gt=0,
        le=MAX_TOTAL,
        description="At most this many points a month from the rule, as a magnitude (5: at most −5 "
        "for a deduction, +5 for a bonus); null: only the dimension's clamp bounds it.",
    )

    def base_findings(self) -> list[Finding]:
        return _duplicates(self.levels, ("levels",), "level")


class _RecordRule(_Rule):
    source: ScoreSource = Field(description="The kind of record counted (one of RECORD_SOURCES).")
    points: Points = Field(description="Points per record (per_record) or per run (run); not 0.")
    reasons: list[Annotated[str, Field(pattern=SCORE_CODE_PATTERN)]] = Field(
        default_factory=list,
        max_length=40,
        description="Signal sources only: count signals with these reason codes "
        "(central.signals.reasons); empty: every reason.",
    )
    categories: list[PatrolFindingCategory] = Field(
        default_factory=list,
        max_length=7,
        description="patrol_finding only: count findings of these categories; empty: every category.",
    )

    def record_findings(self) -> list[Finding]:
        found = [*self.base_findings(), *_nonzero(self.points, ("points",))]
        if self.source not in RECORD_SOURCES:
            found.append(_wrong_source(self.source, "counts records", RECORD_SOURCES))
        if self.reasons and self.source not in SIGNAL_SOURCES:
            found.append(Finding(("reasons",), f"reasons narrow signal sources only, not {self.source}"))
        if self.categories and self.source != ScoreSource.PATROL_FINDING:
            found.append(
                Finding(("categories",), f"categories narrow patrol_finding only, not {self.source}")
            )
        found += _duplicates(self.reasons, ("reasons",), "reason")
        found += _duplicates(self.categories, ("categories",), "category")
        return found


class PerRecordRule(_RecordRule):
    """Points for every record of the source in the period: −10 per red signal."""

    type: Literal["per_record"]

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(self.record_findings())
        return self


class RunRule(_RecordRule):
    """Points for every run of `length` consecutive working days, each with at least one record of the
    source for the subject: −3 for 3 warnings in a row. A run counts on the day it completes; a
    longer run counts again at each further multiple of `length` (6 days in a row: twice)."""

    type: Literal["run"]
    length: int = Field(ge=2, le=31, description="Consecutive working days that make one run.")

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(self.record_findings())
        return self


class PerShareRule(_Rule):
    """Points per full step of a share of the subject's cases: +1 per 10 % finished early, −1 per 1 %
    with missing data. Steps are whole: 19 % at a 10 % step is one step."""

    type: Literal["per_share"]
    source: ScoreSource = Field(description="The share read (one of SHARE_SOURCES).")
    step_percent: float = Field(gt=0, le=100, description="One step, in percent of the cases.")
    points: Points = Field(description="Points per full step; not 0.")
    min_cases: int = Field(
        default=1, ge=1, le=10_000, description="Fewer cases than this: the share is not scored."
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        found = [*self.base_findings(), *_nonzero(self.points, ("points",))]
        if self.source not in SHARE_SOURCES:
            found.append(_wrong_source(self.source, "reads a share of cases", SHARE_SOURCES))
        raise_findings(found)
        return self


class SatisfactionRule(_Rule):
    """Points from the weighted satisfaction rate (好评率, central.ratings.figures): `points_at_full` at
    or above `full_rate`, `points_at_floor` at or below `floor_rate`, linear in between."""

    type: Literal["satisfaction"]
    source: Literal["satisfaction"] = Field(default="satisfaction", description="Always the ratings.")
    full_rate: float = Field(ge=0, le=1, description="At or above this rate: points_at_full.")
    floor_rate: float = Field(ge=0, le=1, description="At or below this rate: points_at_floor.")
    points_at_full: Points = Field(default=0, description="Points at or above full_rate.")
    points_at_floor: Points = Field(description="Points at or below floor_rate, e.g. −10.")
    min_ratings: int = Field(
        default=5, ge=1, le=10_000, description="Fewer ratings than this: the rate is not scored."
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        found = self.base_findings()
        if self.floor_rate >= self.full_rate:
            found.append(
                Finding(
                    ("floor_rate",), f"floor_rate {self.floor_rate} must be below full_rate {self.full_rate}"
                )
            )
        if self.points_at_floor == self.points_at_full:
            found.append(
                Finding(("points_at_floor",), "points_at_floor equals points_at_full: scores nothing")
            )
        raise_findings(found)
        return self


ScoringRule = Annotated[
    PerRecordRule | PerShareRule | RunRule | SatisfactionRule, Field(discriminator="type")
]
RULE_TYPES: tuple[type[_Rule], ...] = (PerRecordRule, PerShareRule, RunRule, SatisfactionRule)


class ScoringRules(StrictModel):
    total: float = Field(default=100, gt=0, le=MAX_TOTAL, description="Full marks of a month, in points.")
    dimensions: list[Dimension] = Field(
        default_factory=list, max_length=30, description="What is measured; weights add up to total."
    )
    rules: list[ScoringRule] = Field(
        default_factory=list, max_length=200, description="How records turn into points."
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(
            [
                *verify_weights_add_up(self),
                *verify_unique_codes(self),
                *verify_rule_dimensions(self),
                *verify_caps_within_weights(self),
            ]
        )
        return self

    @property
    def scores(self) -> bool:
        """Whether the scheme scores at all (the empty default does not)."""
        return bool(self.dimensions)

    def dimension(self, code: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.code == code:
                return dimension
        raise KeyError(f"no dimension {code!r} in the scheme")


def verify_weights_add_up(scheme: ScoringRules) -> list[Finding]:
    if not scheme.dimensions:
        return []
    weights = sum(d.weight for d in scheme.dimensions)
    difference = weights - scheme.total
    if abs(difference) <= 1e-6:
        return []
    off = f"{abs(difference):g} {'over' if difference > 0 else 'short'}"
    return [
        Finding(("dimensions",), f"the weights add up to {weights:g}, not the total {scheme.total:g} ({off})")
    ]


def verify_unique_codes(scheme: ScoringRules) -> list[Finding]:
    return [
        *_duplicates([d.code for d in scheme.dimensions], ("dimensions",), "dimension code", "code"),
        *_duplicates([d.name for d in scheme.dimensions], ("dimensions",), "dimension name", "name"),
        *_duplicates([r.code for r in scheme.rules], ("rules",), "rule code", "code"),
    ]


def verify_rule_dimensions(scheme: ScoringRules) -> list[Finding]:
    known = [d.code for d in scheme.dimensions]
    listed = ", ".join(known) if known else "none: the scheme has no dimensions"
    return [
        Finding(("rules", i, "dimension"), f"rule {r.code!r}: {r.dimension!r} is not a dimension ({listed})")
        for i, r in enumerate(scheme.rules)
        if r.dimension not in known
    ]


def verify_caps_within_weights(scheme: ScoringRules) -> list[Finding]:
    weights = {d.code: d.weight for d in scheme.dimensions}
    return [
        Finding(
            ("rules", i, "cap"),
            f"rule {r.code!r}: cap {r.cap:g} is more than dimension {r.dimension!r}'s weight "
            f"{weights[r.dimension]:g}, which bounds it already",
        )
        for i, r in enumerate(scheme.rules)
        if r.cap is not None and r.dimension in weights and r.cap > weights[r.dimension] + 1e-9
    ]


def _duplicates(
    values: Sequence[object], loc: tuple[str, ...], what: str, field: str | None = None
) -> list[Finding]:
    """One finding at each repeat (after the first), naming where the value first stood."""
    counts = Counter(values)
    found = []
    for index, value in enumerate(values):
        first = values.index(value)
        if counts[value] > 1 and index != first:
            place: Loc = (*loc, index, field) if field else (*loc, index)
            found.append(Finding(place, f"{what} {value!r} appears twice (first at {loc[-1]}[{first}])"))
    return found


def _nonzero(points: float, loc: tuple[str, ...]) -> list[Finding]:
    return (
        [Finding(loc, "points must not be 0: a rule that scores nothing is left out")] if points == 0 else []
    )


def _wrong_source(source: ScoreSource, does: str, allowed: frozenset[ScoreSource]) -> Finding:
    names = ", ".join(sorted(allowed))
    return Finding(("source",), f"this rule type {does}; {source} is not one of: {names}")
