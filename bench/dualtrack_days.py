"""Generated window-days for the dual-track benchmark: visitors per hour as the camera counts them, and
the cases the window records, with the noise a real hall has. Pure numpy, no database.

Every parameter is a stated assumption (no field data was available):

* Opening hours as Sichuan's profile: 09:00–12:00 and 13:30–17:30, so hours 09, 10, 11, 13 (half),
  14, 15, 16, 17 (half), busier mid-morning and mid-afternoon.
* A window's expected visitors a day `λ_w`: log-normal, median `median_visits` (100: a busy city
  hall's window; half the windows between 0.71× and 1.4× that), times a day factor (±14 %, Gamma).
  Hourly visits are Poisson.
* Enquiries (a visit of a minute or more that files nothing): each window its own share, Beta with
  mean 12 % (sd 5 %), varying from day to day (sd ≈ 1.6 points).
* Some served visitors file two cases: each window 0–6 %. Some cases are recorded at the window with
  nobody in the chair (post, agents): 0–3 % of λ_w a day, Poisson.
* 15 % of cases are entered in the hour after the visit began (the visit ran over the hour).
* The camera misses 2 % of visits and counts 0.1 spurious visits an hour (a colleague sitting down).
* Dual-track (the detection scenario): each served visitor's cases go unrecorded with probability
  `unrecorded` (0.2: "a fifth of the visitors"; of the served ones, the stricter reading).

`simulate` runs the pure rule (no database) over such windows, for the benchmark's sensitivity table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from central.dualtrack.rule import History, HourCount, Outcome, judge
from common.profiles.dualtrack import DualTrackRules

logger = logging.getLogger(__name__)

HOURS = np.array([9, 10, 11, 13, 14, 15, 16, 17])
WEIGHTS = np.array([1.0, 1.25, 1.1, 0.45, 1.0, 1.2, 1.05, 0.45])
WEIGHTS = WEIGHTS / WEIGHTS.sum()
ENQUIRY_MEAN, ENQUIRY_CONCENTRATION, ENQUIRY_DAY_CONCENTRATION = 0.12, 40.0, 400.0
MULTI_CASE_MAX, BACK_OFFICE_MAX, SPILL = 0.06, 0.03, 0.15
CAMERA_MISS, CAMERA_SPURIOUS_PER_HOUR = 0.02, 0.1


@dataclass(frozen=True)
class Windows:
    """Each window's traits, drawn once."""

    volume: np.ndarray  # λ_w, expected visitors a day
    enquiry: np.ndarray  # its usual enquiry share
    multi_case: np.ndarray  # share of served visitors who file two cases
    back_office: np.ndarray  # cases a day recorded without a visitor, as a share of λ_w


@dataclass(frozen=True)
class Day:
    """One day of every window: [window, hour] arrays in HOURS order."""

    visits: np.ndarray  # as the camera counted them
    cases: np.ndarray  # recorded, in the hour entered


def draw_windows(rng: np.random.Generator, n: int, *, median_visits: float) -> Windows:
    a = ENQUIRY_MEAN * ENQUIRY_CONCENTRATION
    return Windows(
        volume=median_visits * np.exp(rng.normal(0.0, 0.5, n)),
        enquiry=rng.beta(a, ENQUIRY_CONCENTRATION - a, n),
        multi_case=rng.uniform(0.0, MULTI_CASE_MAX, n),
        back_office=rng.uniform(0.0, BACK_OFFICE_MAX, n),
    )


def draw_day(
    rng: np.random.Generator, windows: Windows, *, unrecorded: float = 0.0, plain: bool = False
) -> Day:
    """`plain`: Poisson visits and binomial enquiries at the window's own share, nothing else (no
    day-to-day swing, no second cases, no cases without a visitor, no late entries, a perfect camera)."""
    n = len(windows.volume)
    if plain:
        visits = rng.poisson(windows.volume[:, None] * WEIGHTS[None, :])
        served = visits - rng.binomial(visits, windows.enquiry[:, None])
        served -= rng.binomial(served, unrecorded)
        return Day(visits=visits, cases=served)
    factor = rng.gamma(50.0, 1 / 50.0, n)
    visits = rng.poisson((windows.volume * factor)[:, None] * WEIGHTS[None, :])
    kappa = ENQUIRY_DAY_CONCENTRATION
    share = rng.beta(kappa * windows.enquiry, kappa * (1 - windows.enquiry))
    served = visits - rng.binomial(visits, share[:, None])
    if unrecorded:
        served -= rng.binomial(served, unrecorded)
    cases = served + rng.binomial(served, windows.multi_case[:, None])
    cases += rng.poisson((windows.back_office * windows.volume)[:, None] * WEIGHTS[None, :])
    late = rng.binomial(cases, SPILL)
    late[:, -1] = 0  # the last hour's run over the close: entered before leaving
    cases = cases - late
    cases[:, 1:] += late[:, :-1]
    counted = rng.binomial(visits, 1 - CAMERA_MISS) + rng.poisson(CAMERA_SPURIOUS_PER_HOUR, visits.shape)
    return Day(visits=counted, cases=cases)


def simulate(
    rules: DualTrackRules, *, windows: int, median_visits: float, plain: bool, history_days: int, seed: int
) -> tuple[float, float]:
    """(false-alarm %, detection %) of the pure rule over judged window-days: `history_days` fully
    recorded days per window as its baseline, then one fully recorded day and one with a fifth of
    the served visitors unrecorded."""
    rng = np.random.default_rng(seed)
    drawn = draw_windows(rng, windows, median_visits=median_visits)
    past = [draw_day(rng, drawn, plain=plain) for _ in range(history_days)]
    v = np.array([d.visits.sum(1) for d in past]).T
    e = np.array([(d.visits - d.cases).sum(1) for d in past]).T
    sq = (e * e / np.maximum(v, 1)).sum(1)
    rates = []
    for unrecorded in (0.0, 0.2):
        day = draw_day(rng, drawn, unrecorded=unrecorded, plain=plain)
        flagged = judged = 0
        for w in range(windows):
            history = History(history_days, int(v[w].sum()), int(e[w].sum()), float(sq[w]))
            hours = [
                HourCount(int(h), int(n), int(c))
                for h, n, c in zip(HOURS, day.visits[w], day.cases[w], strict=True)
            ]
            verdict = judge(hours, history, rules)
            judged += verdict.outcome is not Outcome.LOW_VOLUME
            flagged += verdict.outcome is Outcome.FLAGGED
        rates.append(100 * flagged / max(judged, 1))
    return rates[0], rates[1]


__all__ = ["HOURS", "Day", "Windows", "draw_day", "draw_windows", "simulate"]
