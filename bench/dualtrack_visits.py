"""Generated window-days with each visit known (the dual-track visits method): every visit's start and
length as the edge reports them, and every case's entry time. Pure numpy, no database.

The same assumptions as `bench.dualtrack_days` (its docstring: volumes, the day-to-day swing,
enquiry shares, second cases, cases without a visitor, camera misses and spurious sits), plus the
time each visit takes — again stated, as no field data was available:

* A window's usual service `D_w` fills about half its opening hours: `D_w = 0.5 · 7 h / λ_w`
  (bounded to 1.5–20 minutes), so a busy window serves quickly and a quiet one slowly.
* A served visit lasts `D_w · LogNormal(0, 0.35)`; an enquiry `0.3 · D_w · LogNormal(0, 0.5)`. A sit
  shorter than the edge's one minute is no visit (at a busy window, most enquiries and some
  services), but the edge reports it with the visits; one under 10 s the seat tracker never sees. Citizens sit down one
  after another, 5–60 s apart; an hour that overflows is squeezed into its hour.
* A served visitor's case is entered during the visit (30–95 % of the way in); 5 % are entered
  after the citizen left, within five minutes. A second case is entered just before the visit ends.
  Cases without a visitor are entered at random in the opening hours.
* The camera misses 2 % of visits and sees 0.1 spurious sits an hour, of 1–2 minutes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from bench.dualtrack_days import (
    CAMERA_MISS,
    CAMERA_SPURIOUS_PER_HOUR,
    ENQUIRY_DAY_CONCENTRATION,
    HOURS,
    WEIGHTS,
    Windows,
    draw_windows,
)
from central.dualtrack.matching import Cases, Visits, matched, served
from central.dualtrack.rule import History, HourCount, Method, Outcome, judge
from common.profiles.dualtrack import DualTrackRules

logger = logging.getLogger(__name__)

OPEN_SECONDS = 7 * 3600
HOUR_OPENS = {13: 1800}  # 13:30
HOUR_CLOSES = {17: 1800}  # 17:30
AFTER_LEAVING, SECOND_CASE_AT = 0.02, 0.97
VISIT_MIN_SECONDS = 60  # the profile's presence.visit_min_seconds
SIT_MIN_SECONDS = 10  # shorter: the seat tracker's hysteresis never sees it


@dataclass(frozen=True)
class VisitDay:
    """Every window's day: sits sorted by (window, start), cases by (window, second)."""

    windows: int
    visit_window: np.ndarray
    visit_start: np.ndarray  # second of the day
    visit_seconds: np.ndarray
    case_window: np.ndarray
    case_second: np.ndarray

    def hourly(self) -> tuple[np.ndarray, np.ndarray]:
        """[window, 24] counts of visits (by start hour) and of cases (by entry hour)."""
        visits = np.zeros((self.windows, 24), dtype=np.int64)
        long = self.visit_seconds >= VISIT_MIN_SECONDS
        np.add.at(visits, (self.visit_window[long], self.visit_start[long] // 3600), 1)
        cases = np.zeros((self.windows, 24), dtype=np.int64)
        np.add.at(cases, (self.case_window, self.case_second // 3600), 1)
        return visits, cases


def draw_visit_day(rng: np.random.Generator, windows: Windows, *, unrecorded: float = 0.0) -> VisitDay:
    n = len(windows.volume)
    factor = rng.gamma(50.0, 1 / 50.0, n)
    per_hour = rng.poisson((windows.volume * factor)[:, None] * WEIGHTS[None, :])
    kappa = ENQUIRY_DAY_CONCENTRATION
    share = rng.beta(kappa * windows.enquiry, kappa * (1 - windows.enquiry))
    w = np.repeat(np.repeat(np.arange(n), len(HOURS)), per_hour.ravel())
    h = np.repeat(np.tile(np.arange(len(HOURS)), n), per_hour.ravel())
    usual = np.clip(0.5 * OPEN_SECONDS / np.maximum(windows.volume, 1), 30, 1200)[w]
    enquiry = rng.random(len(w)) < share[w]
    seconds = np.where(
        enquiry, 0.3 * usual * rng.lognormal(0, 0.5, len(w)), usual * rng.lognormal(0, 0.35, len(w))
    )
    seconds = np.maximum(seconds, 1).astype(np.int64)
    start = _sequential(rng, w * len(HOURS) + h, h, seconds)
    cases_w, cases_t = _cases(rng, windows, w, start, seconds, served=~enquiry, unrecorded=unrecorded)
    # Every sit the seat tracker keeps (SIT_MIN_SECONDS) is reported; a visit is one of VISIT_MIN_SECONDS.
    seen = (rng.random(len(w)) >= CAMERA_MISS) & (seconds >= SIT_MIN_SECONDS)
    spurious = rng.poisson(CAMERA_SPURIOUS_PER_HOUR, (n, len(HOURS)))
    sw = np.repeat(np.repeat(np.arange(n), len(HOURS)), spurious.ravel())
    sh = np.repeat(np.tile(HOURS, n), spurious.ravel())
    vw = np.concatenate([w[seen], sw])
    vt = np.concatenate([start[seen], sh * 3600 + rng.integers(0, 1800, len(sw))])
    vd = np.concatenate([seconds[seen], rng.integers(60, 120, len(sw))])
    order = np.lexsort((vt, vw))
    corder = np.lexsort((cases_t, cases_w))
    return VisitDay(n, vw[order], vt[order], vd[order], cases_w[corder], cases_t[corder])


def _sequential(
    rng: np.random.Generator, group: np.ndarray, h: np.ndarray, seconds: np.ndarray
) -> np.ndarray:
    """Starts of visits one after another within each window-hour (`group`, ascending), squeezed
    into the hour when they overflow it."""
    step = seconds + rng.integers(5, 60, len(seconds))
    total = np.cumsum(step)
    first = np.r_[True, group[1:] != group[:-1]]
    base = np.maximum.accumulate(np.where(first, total - step, 0))
    offset = total - step - base  # seconds since the window-hour's first visit
    hour = HOURS[h]
    opens = np.array([HOUR_OPENS.get(int(x), 0) for x in HOURS])[h]
    room = np.array([3600 - HOUR_CLOSES.get(int(x), 0) for x in HOURS])[h] - opens
    used = np.zeros(group.max() + 1 if len(group) else 0)
    np.maximum.at(used, group, offset + seconds)
    squeeze = np.minimum(1.0, room / np.maximum(used[group], 1))
    starts: np.ndarray = hour * 3600 + opens + (offset * squeeze).astype(np.int64)
    return starts


def _cases(
    rng: np.random.Generator,
    windows: Windows,
    w: np.ndarray,
    start: np.ndarray,
    seconds: np.ndarray,
    *,
    served: np.ndarray,
    unrecorded: float,
) -> tuple[np.ndarray, np.ndarray]:
    recorded = served & (rng.random(len(w)) >= unrecorded)
    rw, rs, rd = w[recorded], start[recorded], seconds[recorded]
    during = rs + (rd * rng.uniform(0.3, 0.95, len(rw))).astype(np.int64)
    after = rs + rd + rng.integers(0, 300, len(rw))
    entered = np.where(rng.random(len(rw)) < AFTER_LEAVING, after, during)
    second = rng.random(len(rw)) < windows.multi_case[rw]
    extra_w, extra_t = rw[second], (rs + rd * SECOND_CASE_AT).astype(np.int64)[second]
    back = rng.poisson(windows.back_office * windows.volume)
    bw = np.repeat(np.arange(len(windows.volume)), back)
    bt = rng.integers(9 * 3600, 17 * 3600 + 1800, len(bw))
    return np.concatenate([rw, extra_w, bw]), np.concatenate([entered, extra_t, bt])


def visit_statistic(day: VisitDay, rules: DualTrackRules) -> tuple[np.ndarray, np.ndarray]:
    """[window, 24] served-length visits and those matched: `central.dualtrack.matching`'s served and
    matched visits (the production code), tallied per window and hour."""
    visits = Visits(day.visit_window, day.visit_start, day.visit_seconds)
    long = served(visits, rules)
    hit = long & matched(visits, Cases(day.case_window, day.case_second), rules)
    hour = day.visit_start // 3600
    tally = np.zeros((day.windows, 24), dtype=np.int64)
    np.add.at(tally, (day.visit_window[long], hour[long]), 1)
    hits = np.zeros((day.windows, 24), dtype=np.int64)
    np.add.at(hits, (day.visit_window[hit], hour[hit]), 1)
    return tally, hits


def simulate_visits(
    rules: DualTrackRules, *, windows: int, median_visits: float, history_days: int, seed: int
) -> tuple[float, float]:
    """(false-alarm %, detection %) of the visits method, pure: as `bench.dualtrack_days.simulate`."""
    rng = np.random.default_rng(seed)
    drawn = draw_windows(rng, windows, median_visits=median_visits)
    past = [visit_statistic(draw_visit_day(rng, drawn), rules) for _ in range(history_days)]
    v = np.array([long.sum(1) for long, _hits in past]).T
    e = np.array([(long - hits).sum(1) for long, hits in past]).T
    sq = (e * e / np.maximum(v, 1)).sum(1)
    rates = []
    for unrecorded in (0.0, 0.2):
        long, hits = visit_statistic(draw_visit_day(rng, drawn, unrecorded=unrecorded), rules)
        flagged = judged = 0
        for w in range(windows):
            history = History(history_days, int(v[w].sum()), int(e[w].sum()), float(sq[w]))
            hours = [
                HourCount(h, int(long[w, h]), int(hits[w, h])) for h in range(24) if long[w, h] or h in HOURS
            ]
            verdict = judge(hours, history, rules, Method.VISITS)
            judged += verdict.outcome is not Outcome.LOW_VOLUME
            flagged += verdict.outcome is Outcome.FLAGGED
        rates.append(100 * flagged / max(judged, 1))
    return rates[0], rates[1]


__all__ = ["VisitDay", "draw_visit_day", "simulate_visits", "visit_statistic"]
