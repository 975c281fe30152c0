"""The pure dual-track test (central.dualtrack.rule): Student's t by its closed form, the baseline
from history and its cap, and each condition a flag needs — so that one odd hour, a thin day or a
tiny shift on a huge day never raises a signal, while a persistent excess does."""

from __future__ import annotations

import math

import numpy as np
import pytest

from central.dualtrack.rule import (
    SPREAD_FLOOR,
    BaselineSource,
    History,
    HourCount,
    Outcome,
    baseline,
    judge,
    upper_quantile,
)
from common.profiles.dualtrack import DualTrackRules
from common.profiles.loader import DEFAULT_PROFILE_KEY, get_profile

RULES = get_profile(DEFAULT_PROFILE_KEY).dualtrack
HOURS = [9, 10, 11, 13, 14, 15, 16, 17]


def steady(share: float = 0.1, visits: int = 100, days: int = 20, spread: float = 0.4) -> History:
    """`days` days of `visits` visitors, excess alternating ±spread·√visits around visits·share."""
    excess = [visits * share + (1 if d % 2 else -1) * spread * math.sqrt(visits) for d in range(days)]
    return History(days, visits * days, round(sum(excess)), sum(e * e / visits for e in excess))


def day(visits: list[int], cases: list[int]) -> list[HourCount]:
    return [HourCount(h, v, c) for h, v, c in zip(HOURS, visits, cases, strict=True)]


@pytest.mark.parametrize(
    ("alpha", "df", "expected"),
    [(0.005, 19, 2.8609), (0.025, 10, 2.2281), (0.05, 1, 6.3138), (0.05, 2, 2.9200), (0.01, 5, 3.3649),
     (0.005, None, 2.5758), (0.05, 200, 1.6525)],
)  # fmt: skip
def test_t_quantiles_match_the_tables(alpha: float, df: int | None, expected: float) -> None:
    assert upper_quantile(alpha, df) == pytest.approx(expected, abs=5e-4)


def test_the_baseline_is_the_windows_own_capped_by_the_allowance() -> None:
    own = baseline(steady(share=0.1), RULES)
    assert (own.source, own.df, round(own.share, 3)) == (BaselineSource.HISTORY, 19, 0.1)
    assert own.spread == pytest.approx(0.4 * math.sqrt(20 / 19), rel=0.02)
    capped = baseline(steady(share=0.4), RULES)
    assert (capped.source, capped.share) == (BaselineSource.CAPPED, RULES.enquiry_allowance)
    thin = baseline(steady(days=RULES.baseline_min_days - 1), RULES)
    assert (thin.source, thin.share, thin.df) == (BaselineSource.ALLOWANCE, RULES.enquiry_allowance, None)
    regular = baseline(steady(spread=0.0), RULES)
    assert regular.spread == SPREAD_FLOOR  # a history too regular to be true never makes the test touchy


def test_a_persistent_excess_is_flagged() -> None:
    visits = [20, 25, 22, 9, 20, 24, 21, 9]  # 150
    cases = [round(v * 0.72) for v in visits]  # 28 % unrecorded against a usual 10 %
    verdict = judge(day(visits, cases), steady(), RULES)
    assert verdict.outcome is Outcome.FLAGGED and verdict.why == []
    assert verdict.z is not None and verdict.critical is not None and verdict.z > verdict.critical
    assert len(verdict.hours_over) >= RULES.min_hours and verdict.beyond > RULES.min_excess_visits


def test_one_odd_hour_is_not_dual_track() -> None:
    """A camera counting passers-by for an hour: the day is significant, the rest of it is not."""
    visits = [20, 25, 22, 9, 20, 24, 21, 9]
    cases = [18, 22, 20, 8, 18, 22, 19, 8]  # the usual tenth
    visits[1] += 30
    verdict = judge(day(visits, cases), steady(), RULES)
    assert verdict.z is not None and verdict.critical is not None and verdict.z > verdict.critical
    assert verdict.outcome is Outcome.CLEAR and verdict.peak_hour == 10
    assert any("去掉超出最多的一个小时" in why for why in verdict.why)


def test_too_few_visitors_are_not_judged() -> None:
    verdict = judge(day([5, 5, 5, 2, 5, 5, 5, 2], [0] * 8), steady(), RULES)
    assert verdict.outcome is Outcome.LOW_VOLUME and verdict.z is None and "少于研判所需" in verdict.why[0]


def test_a_tiny_shift_on_a_huge_day_is_not_flagged() -> None:
    rules = RULES.model_copy(update={"min_excess_share": 0.05})
    visits = [1200] * 8
    cases = [round(v * 0.87) for v in visits]  # 13 % against 10 %: significant, but 3 points
    verdict = judge(day(visits, cases), steady(visits=9600, spread=0.4), rules)
    assert verdict.z is not None and verdict.critical is not None and verdict.z > verdict.critical
    assert verdict.outcome is Outcome.CLEAR and any("超出比例" in why for why in verdict.why)


def test_hours_without_a_count_are_not_compared() -> None:
    hours = [
        *day([20, 25, 22, 9, 20, 24, 21, 9], [18, 22, 20, 8, 18, 22, 19, 8])[:-1],
        HourCount(17, None, 40),
    ]
    verdict = judge(hours, steady(), RULES)
    assert verdict.hours_counted == 7 and verdict.cases == 18 + 22 + 20 + 8 + 18 + 22 + 19


def test_the_rates_on_generated_windows() -> None:
    """2,000 windows, each its own enquiry share (2–30 %) and volume (80–300 a day), Poisson visits
    and binomial enquiries, 20 judged days of history: a fully recorded day is flagged for at most
    1 % of them; a day with a fifth of the served visitors unrecorded for most of them."""
    rng = np.random.default_rng(20261126)
    weights = np.array([1.0, 1.25, 1.1, 0.45, 1.0, 1.2, 1.05, 0.45]) / 7.5
    false_alarms = detections = 0
    windows = 2000
    for _ in range(windows):
        share, volume = rng.uniform(0.02, 0.3), rng.uniform(80, 300)

        def draw(
            unrecorded: float = 0.0, share: float = share, volume: float = volume
        ) -> tuple[list[int], list[int]]:
            visits = rng.poisson(volume * weights)
            served = visits - rng.binomial(visits, share)
            return visits.tolist(), (served - rng.binomial(served, unrecorded)).tolist()

        past = [draw() for _ in range(20)]
        v = [sum(d[0]) for d in past]
        e = [sum(d[0]) - sum(d[1]) for d in past]
        history = History(20, sum(v), sum(e), sum(x * x / max(n, 1) for x, n in zip(e, v, strict=True)))
        false_alarms += judge(day(*draw()), history, RULES).outcome is Outcome.FLAGGED
        detections += judge(day(*draw(0.2)), history, RULES).outcome is Outcome.FLAGGED
    assert false_alarms <= windows // 100
    assert detections >= windows * 0.8


def test_the_profile_model_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="baseline_min_days"):
        DualTrackRules(baseline_days=10, baseline_min_days=20)
    with pytest.raises(ValueError, match="extra"):
        DualTrackRules.model_validate({"enquiry_alowance": 0.2})
    with pytest.raises(ValueError):
        DualTrackRules(false_alarm_rate=0.5)
