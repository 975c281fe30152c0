"""Points from one scoring rule and the figures of one subject and period, with their explanation.

Pure: the scoring engine counts the records (signals, ratings, absences …) of a subject (a staff
member, window, department or hall) for a day or a month, hands the figures to `score_rule` and
books the answer as one explained line: its points and a zh-CN sentence such as
"红灯 2 件 × −10 = −20". `dimension_scores` turns the lines' sums into the clamped scores.

A rule's monthly cap is kept across the lines of a month with `Figures.month_so_far`, the points
the rule already gave the subject this month: a line then gets only what is left under the cap.
A share or satisfaction rule is a monthly measure; called with the month-to-date figures and
month_so_far 0 it answers the month-to-date points, whose change a day's line can book.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from common.profiles.scoring import (
    SOURCE_UNITS,
    PerRecordRule,
    PerShareRule,
    RunRule,
    SatisfactionRule,
    ScoringRules,
)

logger = logging.getLogger(__name__)

DECIMALS = 2  # points are kept and shown to 1/100
MINUS = "\u2212"  # the minus sign of printed figures (−20), not a hyphen


@dataclass(frozen=True)
class Figures:
    """The numbers of one subject and period that a rule reads; each rule type reads its own."""

    records: int = 0  # per_record: records of the source
    runs: int = 0  # run: runs completed in the period
    hits: int = 0  # per_share: cases with the property (finished early, missing data)
    cases: int = 0  # per_share: the cases the share is taken of
    rate: float | None = None  # satisfaction: the weighted 好评率, 0..1; None: no ratings
    ratings: int = 0  # satisfaction: the ratings the rate is taken of
    month_so_far: float = 0  # points the rule already gave the subject this month (for its cap)

    def __post_init__(self) -> None:
        for name in ("records", "runs", "hits", "cases", "ratings"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number ≥ 0, not {value!r}")
        if self.hits > self.cases:
            raise ValueError(f"hits ({self.hits}) cannot exceed cases ({self.cases})")
        if self.rate is not None and not 0 <= self.rate <= 1:  # NaN fails both comparisons
            raise ValueError(f"rate must lie in 0..1, not {self.rate!r}")
        if not math.isfinite(self.month_so_far):
            raise ValueError(f"month_so_far must be a finite number, not {self.month_so_far!r}")


@dataclass(frozen=True)
class RulePoints:
    points: float  # what the line books (0: nothing to book)
    explanation: str  # zh-CN, starts with the rule's label
    capped: bool = False  # the monthly cap took some points off


ScoredRule = PerRecordRule | PerShareRule | RunRule | SatisfactionRule


def score_rule(rule: ScoredRule, figures: Figures) -> RulePoints:
    """The points `rule` gives for `figures`, within its monthly cap, and why."""
    if isinstance(rule, PerRecordRule):
        points, why = _per_record(rule, figures)
    elif isinstance(rule, RunRule):
        points, why = _run(rule, figures)
    elif isinstance(rule, PerShareRule):
        points, why = _per_share(rule, figures)
    else:
        points, why = _satisfaction(rule, figures)
    return _within_cap(rule, _round(points), why, figures.month_so_far)


def clamp_dimension(weight: float, change: float) -> float:
    """A dimension's score: its weight plus the month's lines, clamped to [0, weight]."""
    if not (math.isfinite(weight) and weight > 0 and math.isfinite(change)):
        raise ValueError(f"need a weight > 0 and a finite change, not {weight!r}, {change!r}")
    return _round(min(weight, max(0.0, weight + change)))


def dimension_scores(scheme: ScoringRules, changes: Mapping[str, float]) -> dict[str, float]:
    """Every dimension's clamped score, given the sum of its lines (a dimension not named: none)."""
    unknown = set(changes) - {d.code for d in scheme.dimensions}
    if unknown:
        raise ValueError(f"not dimensions of the scheme: {', '.join(sorted(unknown))}")
    return {d.code: clamp_dimension(d.weight, changes.get(d.code, 0.0)) for d in scheme.dimensions}


def runs_completed(streak_before: int, streak_after: int, length: int) -> int:
    """Runs a streak of consecutive working days completes while it grows from `streak_before` to
    `streak_after` (a run counts at each multiple of `length`): the `runs` of a run rule's line."""
    if not 0 <= streak_before <= streak_after or length < 1:
        raise ValueError(f"need 0 ≤ before ≤ after and length ≥ 1: {streak_before}, {streak_after}, {length}")
    return streak_after // length - streak_before // length


def signed(value: float) -> str:
    """+3, −20, 0, −3.57: how figures are printed in explanations."""
    value = _round(value)
    if value == 0:
        return "0"
    text = f"{abs(value):.{DECIMALS}f}".rstrip("0").rstrip(".")
    return f"+{text}" if value > 0 else f"{MINUS}{text}"


def plain(value: float) -> str:
    return f"{value:.{DECIMALS}f}".rstrip("0").rstrip(".")


def _per_record(rule: PerRecordRule, figures: Figures) -> tuple[float, str]:
    points = figures.records * rule.points
    unit = SOURCE_UNITS[rule.source]
    return points, f"{rule.label} {figures.records} {unit} × {signed(rule.points)} = {signed(points)}"


def _run(rule: RunRule, figures: Figures) -> tuple[float, str]:
    points = figures.runs * rule.points
    return points, (
        f"{rule.label} {figures.runs} 次（连续 {rule.length} 个工作日）× {signed(rule.points)} = {signed(points)}"
    )


def _per_share(rule: PerShareRule, figures: Figures) -> tuple[float, str]:
    unit = SOURCE_UNITS[rule.source]
    if figures.cases < rule.min_cases:
        return 0.0, f"{rule.label} 共 {figures.cases} {unit}，不足 {rule.min_cases} {unit}，不计分"
    # Exact arithmetic: 30 % at a 10 % step is 3 steps, never 2.9999…
    share = Fraction(figures.hits * 100, figures.cases)
    steps = math.floor(share / Fraction(str(rule.step_percent)))
    points = steps * rule.points
    return points, (
        f"{rule.label} {figures.hits}/{figures.cases} {unit} = {plain(float(share))}%，"
        f"每 {plain(rule.step_percent)}% {signed(rule.points)}，{steps} 档 = {signed(points)}"
    )


def _satisfaction(rule: SatisfactionRule, figures: Figures) -> tuple[float, str]:
    if figures.rate is None or figures.ratings < rule.min_ratings:
        return 0.0, f"{rule.label} 评价 {figures.ratings} 条，不足 {rule.min_ratings} 条，不计分"
    rate = figures.rate
    if rate >= rule.full_rate:
        points = rule.points_at_full
    elif rate <= rule.floor_rate:
        points = rule.points_at_floor
    else:
        along = (rate - rule.floor_rate) / (rule.full_rate - rule.floor_rate)
        points = rule.points_at_floor + along * (rule.points_at_full - rule.points_at_floor)
    return points, (
        f"{rule.label} 好评率 {plain(rate * 100)}%（{figures.ratings} 条评价）："
        f"{plain(rule.full_rate * 100)}% 及以上 {signed(rule.points_at_full)}，"
        f"{plain(rule.floor_rate * 100)}% 及以下 {signed(rule.points_at_floor)}，计 {signed(points)}"
    )


def _within_cap(rule: ScoredRule, points: float, why: str, so_far: float) -> RulePoints:
    if rule.cap is None:
        return RulePoints(points, why)
    # Toward the cap only: a line never turns a deduction into a bonus, whatever came before.
    if points < 0:
        allowed = -_round_down(max(0.0, min(-points, rule.cap + so_far)))
    else:
        allowed = _round_down(max(0.0, min(points, rule.cap - so_far)))
    if allowed == points:
        return RulePoints(points, why)
    limit = signed(rule.cap if points > 0 else -rule.cap)
    note = f"（本月上限 {limit}，此前已计 {signed(so_far)}，本次计 {signed(allowed)}）"
    return RulePoints(allowed, why + note, capped=True)


def _round_down(magnitude: float) -> float:
    """To 1/100 toward 0, so that what is left under a cap is never exceeded by rounding."""
    return _round(math.floor(magnitude * 10**DECIMALS + 1e-6) / 10**DECIMALS)


def _round(value: float) -> float:
    return round(value, DECIMALS) + 0.0  # + 0.0 turns −0.0 into 0.0
