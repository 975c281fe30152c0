"""The fair, unpredictable choice of which cities and counties the province patrols on a day (SC-6(1)).

RULES: "choosing 2 cities and 8 counties must be random but fair over time, so no centre is skipped
for long and nobody can predict tomorrow's choice". Three properties, each held by construction:

- **Bounded wait.** With n candidates and k picks a day the fair gap is n/k working days; nobody
  waits more than `bound = floor(2n/k)` working days between two choices. Each candidate has a
  deadline (the last working day it may be chosen on); the day's picks are drawn so that the rest
  can still all meet theirs if later days took the earliest deadlines first (EDF feasibility, the
  test below), which holds at every step because it held before it.
- **Fair frequency.** Among the candidates the deadlines leave free, each is drawn with weight
  (working days waited)³, so the long-waiting are likely and yesterday's choice almost never (the
  first 120 working days of the Sichuan tree under 12 keys: each county drawn 3–9 times, 5.2 fair,
  where an independent uniform draw spreads them 0–12; each city 9–15, 11.4 fair; the longest waits
  39–43 and 17–20 working days against bounds of 45 and 21; squares spread counties wider, fourth
  powers make the long-waiting too predictable).
- **Unpredictable, yet auditable.** The randomness is HMAC-SHA256 under a secret key held by central,
  of the pool, the day and a counter: without the key tomorrow's draw cannot be told from today's;
  an auditor given the key and the published history recomputes every plan exactly.

Pure: no database, no clock. `PoolState` is what the history says (see `central.patrols.service`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

logger = logging.getLogger(__name__)

_UNIT = float(1 << 64)


def fairness_bound(candidates: int, picks: int) -> int:
    """The longest wait allowed, in working days: twice the fair gap n/k, rounded down (at least 1)."""
    if picks <= 0:
        raise ValueError("a pool draws at least one candidate a day")
    return max(1, (2 * candidates) // picks)


class KeyedStream:
    """Uniform numbers in [0, 1) from HMAC-SHA256(key, label:counter): reproducible given the key."""

    def __init__(self, key: bytes, label: str) -> None:
        self._key, self._label, self._counter = key, label, 0

    def next(self) -> float:
        message = f"{self._label}:{self._counter}".encode()
        self._counter += 1
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") / _UNIT


@dataclass(frozen=True)
class PoolState:
    """Per candidate (a region code), working days waited by the day drawn: 1 = chosen the working day
    before (or joined the pool then). `bound` caps it: waited == bound means today is the last chance."""

    waited: Mapping[str, int]
    bound: int


def draw(state: PoolState, *, picks: int, key: bytes, pool: str, day: date) -> list[str]:
    """`picks` candidates (all of them when fewer), in the order drawn."""
    remaining = dict(state.waited)
    stream = KeyedStream(key, f"{pool}:{day.isoformat()}")
    chosen: list[str] = []
    while remaining and len(chosen) < picks:
        eligible = _eligible(remaining, bound=state.bound, slots=picks - len(chosen), picks=picks)
        pick = _weighted(eligible, remaining, stream)
        chosen.append(pick)
        del remaining[pick]
    return chosen


def _eligible(remaining: Mapping[str, int], *, bound: int, slots: int, picks: int) -> list[str]:
    """The candidates today's next pick may come from, so that every deadline can still be met.

    slack = bound - waited: the working days after today a candidate may still wait. Needing
    need(t) = #{slack <= t} - picks * t of today's `slots` to come from those with slack <= t, the
    tightest t (need(t) >= slots) restricts the pick to them; none that tight, anyone may be drawn.
    """
    by_slack: dict[int, list[str]] = {}
    for code, waited in remaining.items():
        by_slack.setdefault(bound - waited, []).append(code)
    count = 0
    for slack in sorted(by_slack):
        count += len(by_slack[slack])
        if count - picks * max(slack, 0) >= slots:
            if count - picks * max(slack, 0) > slots:
                logger.warning(
                    "more candidates are due than can be drawn (%d due by %d day(s) on, %d slot(s) left): "
                    "the wait bound slips for some (the pool grew by many at once)",
                    count,
                    max(slack, 0),
                    slots,
                )
            return sorted(code for s in by_slack if s <= slack for code in by_slack[s])
    return sorted(remaining)


def _weighted(eligible: list[str], waited: Mapping[str, int], stream: KeyedStream) -> str:
    """One of `eligible` (sorted, so the draw is reproducible), weighted by days waited cubed."""
    weights = [max(waited[code], 1) ** 3 for code in eligible]
    target = stream.next() * sum(weights)
    for code, weight in zip(eligible, weights, strict=True):
        target -= weight
        if target < 0:
            return code
    return eligible[-1]
