"""The dual-track test of one window's day (双轨运行 / 体外循环): pure, no I/O, shared with the benchmark.

**What is compared.** Per clock hour, `V_h` visits against `C_h` cases, by one of two methods:

* `visits` (the edge reported each visit's start and length): `V_h` the served-length visits that
  began in the hour, `C_h` those a case was entered during (`central.dualtrack.matching`), so the
  excess is the long visits that left no case at all;
* `counts` (an agent that reports counts only): `V_h` the camera's visits (a citizen seated at the
  window for at least `presence.visit_min_seconds`), `C_h` the distinct cases whose first not-voided
  event at that window that day falls in the hour.

Only hours with a count take part: a camera that was off says nothing. The day's excess is
`E = Σ (V_h − C_h)`. A window's baseline reads only its days judged by the same method.

**What is normal.** Some visitors leave no case (enquiries, materials incomplete), some file two, a
camera misses a few: a fully recorded window has its own usual share `m` of excess per visitor and
its own day-to-day spread. Both come from the window's own unflagged judged days of the last
`baseline_days` (at least `baseline_min_days` of them):

    m̂ = ΣE_d / ΣV_d,    s² = Σ (E_d − V_d·m̂)² / V_d / (n − 1)     (a quasi-binomial dispersion)

The profile's `enquiry_allowance` caps the baseline, `m0 = min(m̂, allowance)`: a window that
habitually leaves more unrecorded than the allowance is judged against the allowance, so a window
cannot make dual-track its own normal. Without enough history, `m0 = allowance` and
`s² = allowance·(1 − allowance)·dispersion_without_history`.

**The test.** One-sided, on the day's excess beyond the expected, as a prediction from the baseline:

    r = E − V·m0,    z = r / (s·√V·√(1 + V/ΣV_d))

`z` is compared with Student's t quantile at `1 − false_alarm_rate` with `n − 1` degrees of freedom
(the spread is estimated from n days), or the normal quantile without history. Under a fully
recorded day `r` has mean ≤ 0 and variance `V·s²` (plus the baseline's own uncertainty, the second
root), so the flag fires on such a day with probability ≈ `false_alarm_rate`.

**Also required** (each guards against a way random variation or a fault would look like dual-track):
`V ≥ min_visits` (below, 样本不足: not judged); `r ≥ min_excess_visits` and `r ≥ min_excess_share·V`
(practically significant); at least `min_hours` hours with more visitors than expected; and
persistence: without its worst hour the rest of the day's excess is still significant at
`rest_of_day_alpha` (one hour of a camera counting passers-by is not dual-track).

Power, measured by `bench/supervision_dualtrack.py` (10,000 generated windows; its generators state
every assumption), with a fifth of the served visitors unrecorded: counting alone, a quiet window's
enquiries vary as much as a fifth of its cases, so detection in one day is a matter of volume (≈ 63 /
75 / 85 % of window-days at a median of 60 / 100 / 150 visitors with every noise source). Matching
each sit with its case removes second cases, cases without a visitor, late entries and most
enquiries from the noise: ≈ 93 / 96 / 98 %, false alarms ≈ 0.2–0.5 %. What it still misses are the
quietest windows (88 % at 40–59 served-length visits a day).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from statistics import NormalDist

from common.profiles.dualtrack import DualTrackRules

logger = logging.getLogger(__name__)

SPREAD_FLOOR = math.sqrt(0.05 * 0.95)  # a history too regular to be true never makes the test touchy


class Outcome(StrEnum):
    FLAGGED = "flagged"  # 疑似体外循环: raises a yellow signal
    CLEAR = "clear"  # 未见异常
    LOW_VOLUME = "low_volume"  # 来访过少，未研判


class Method(StrEnum):
    """What the day's hours compare (`central.dualtrack.matching` builds the visits method's hours)."""

    VISITS = "visits"  # served-length visits against those a case was entered during
    COUNTS = "counts"  # every counted visit against the cases (an agent that reports counts only)


class BaselineSource(StrEnum):
    HISTORY = "history"  # the window's own usual share
    CAPPED = "capped"  # its own share exceeded the allowance: the allowance
    ALLOWANCE = "allowance"  # too little history: the allowance


@dataclass(frozen=True)
class HourCount:
    hour: int  # Shanghai clock hour, 0..23
    visits: int | None  # None: no camera count for the hour (not compared)
    cases: int


@dataclass(frozen=True)
class History:
    """The window's unflagged judged days in the look-back: their count and sums."""

    days: int
    visits: int  # ΣV_d
    excess: int  # ΣE_d
    excess_sq_per_visit: float  # Σ E_d² / V_d


@dataclass(frozen=True)
class Baseline:
    share: float  # m0: expected excess per visitor
    spread: float  # s: standard deviation of the excess per √visitor
    df: int | None  # degrees of freedom of s (None: assumed, not estimated)
    history_visits: int  # ΣV_d behind it (0 without history)
    source: BaselineSource


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    visits: int  # counted hours only
    cases: int  # in counted hours
    excess: int  # E
    expected: float  # V·m0
    z: float | None
    critical: float | None
    z_rest: float | None
    hours_counted: int
    hours_over: list[int]  # the hours with more visitors than expected, ascending
    peak_hour: int | None
    baseline: Baseline
    why: list[str]  # zh-CN: each condition not met (empty when flagged)
    method: Method = Method.COUNTS

    @property
    def beyond(self) -> float:
        """r: visitors beyond the expected."""
        return self.excess - self.expected


def allowance_of(rules: DualTrackRules, method: Method) -> float:
    return rules.unmatched_allowance if method is Method.VISITS else rules.enquiry_allowance


def baseline(history: History | None, rules: DualTrackRules, method: Method = Method.COUNTS) -> Baseline:
    allowance = allowance_of(rules, method)
    if history is None or history.days < rules.baseline_min_days or history.visits <= 0:
        spread = math.sqrt(max(allowance * (1 - allowance), 0.05 * 0.95) * rules.dispersion_without_history)
        return Baseline(allowance, spread, None, 0, BaselineSource.ALLOWANCE)
    share = history.excess / history.visits
    # Σ(E − V·m)²/V expanded, so the database sums three columns instead of keeping every day.
    squares = history.excess_sq_per_visit - 2 * share * history.excess + share * share * history.visits
    spread = max(math.sqrt(max(squares, 0.0) / (history.days - 1)), SPREAD_FLOOR)
    source = BaselineSource.HISTORY
    if share > allowance:
        share, source = allowance, BaselineSource.CAPPED
    return Baseline(share, spread, history.days - 1, history.visits, source)


def judge(
    hours: Sequence[HourCount],
    history: History | None,
    rules: DualTrackRules,
    method: Method = Method.COUNTS,
) -> Verdict:
    """The verdict of one window's day from its hourly counts and its history (of the same method)."""
    base = baseline(history, rules, method)
    counted = [h for h in hours if h.visits is not None]
    visits = sum(h.visits or 0 for h in counted)
    cases = sum(h.cases for h in counted)
    excess = visits - cases
    expected = visits * base.share
    beyond = {h.hour: (h.visits or 0) - h.cases - (h.visits or 0) * base.share for h in counted}
    over = sorted(hour for hour, value in beyond.items() if value > 0)
    peak = max(beyond, key=lambda hour: (beyond[hour], -hour)) if beyond else None
    if visits < rules.min_visits:
        why = [f"当日计数来访 {visits} 人次，少于研判所需的 {rules.min_visits} 人次"]
        return Verdict(
            Outcome.LOW_VOLUME,
            visits,
            cases,
            excess,
            expected,
            None,
            None,
            None,
            len(counted),
            over,
            peak,
            base,
            why,
            method,
        )
    r = excess - expected
    # The second root: the baseline is itself estimated from ΣV_d visitors (a prediction, not a mean).
    prediction = math.sqrt(1 + visits / base.history_visits) if base.history_visits else 1.0
    z = r / (base.spread * math.sqrt(visits) * prediction)
    critical = upper_quantile(rules.false_alarm_rate, base.df)
    z_rest = _rest_of_day(r, beyond, counted, peak, base)
    why = []
    if z < critical:
        why.append(f"超出部分不显著（z = {z:.2f}，临界值 {critical:.2f}）")
    if r < rules.min_excess_visits:
        why.append(f"超出 {r:.1f} 人次，少于 {rules.min_excess_visits} 人次")
    if r < rules.min_excess_share * visits:
        why.append(f"超出比例 {r / visits:.1%}，低于 {rules.min_excess_share:.0%}")
    if len(over) < rules.min_hours:
        why.append(f"仅 {len(over)} 个小时超出，少于 {rules.min_hours} 个小时")
    rest_critical = upper_quantile(rules.rest_of_day_alpha, base.df)
    if z_rest is None or z_rest < rest_critical:
        why.append("去掉超出最多的一个小时后，其余时段不再显著（非持续超出）")
    outcome = Outcome.CLEAR if why else Outcome.FLAGGED
    return Verdict(
        outcome,
        visits,
        cases,
        excess,
        expected,
        z,
        critical,
        z_rest,
        len(counted),
        over,
        peak,
        base,
        why,
        method,
    )


def _rest_of_day(
    r: float, beyond: dict[int, float], counted: Sequence[HourCount], peak: int | None, base: Baseline
) -> float | None:
    """z of the day without its worst hour (None: nothing left to test)."""
    if peak is None:
        return None
    rest_visits = sum(h.visits or 0 for h in counted if h.hour != peak)
    if rest_visits <= 0:
        return None
    return (r - beyond[peak]) / (base.spread * math.sqrt(rest_visits))


@lru_cache(maxsize=256)
def upper_quantile(alpha: float, df: int | None) -> float:
    """The value exceeded with probability `alpha`: Student's t with `df` degrees of freedom, or the
    standard normal for None. Bisection on the exact t distribution (integer df, closed form)."""
    if df is None:
        return NormalDist().inv_cdf(1 - alpha)
    low, high = 0.0, 1.0
    while _t_upper(high, df) > alpha:
        high *= 2
    for _ in range(100):
        middle = (low + high) / 2
        if _t_upper(middle, df) > alpha:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _t_upper(t: float, df: int) -> float:
    """P(T > t) for t ≥ 0 (Abramowitz & Stegun 26.7.3–4: finite sums for integer df)."""
    theta = math.atan(t / math.sqrt(df))
    cos2, term, total = math.cos(theta) ** 2, 1.0, 1.0
    if df % 2 == 0:
        for k in range(2, df, 2):  # 1 + ½cos² + (1·3)/(2·4)cos⁴ + …
            term *= cos2 * (k - 1) / k
            total += term
        inside = math.sin(theta) * total
    else:
        series = 0.0
        if df > 1:
            term = math.cos(theta)
            series = term
            for k in range(3, df - 1, 2):  # cos + (2/3)cos³ + (2·4)/(3·5)cos⁵ + …
                term *= cos2 * (k - 1) / k
                series += term
        inside = 2 / math.pi * (theta + math.sin(theta) * series)
    return max((1 - inside) / 2, 0.0)


__all__ = [
    "Baseline",
    "BaselineSource",
    "History",
    "HourCount",
    "Method",
    "Outcome",
    "Verdict",
    "allowance_of",
    "baseline",
    "judge",
    "upper_quantile",
]
