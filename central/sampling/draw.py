"""The sampling draw (抽样监察, SC-6(4)): pure, no database, no clock — an auditor's recomputation
runs exactly this code on the recorded inputs.

- **Rates.** Each closed case has a rate: the profile's base rate, or the highest rate among SZ-9's
  kinds it has (refusal, correction, revocation, extension, suspension). Its *class* is the kind
  that gave that rate (`base` for none), so the rate classes are what is oversampled.
- **Strata.** Cases are grouped by department × item × class. From a group of n at rate r the draw
  takes floor(r·n) cases and one more with probability frac(r·n): every case is drawn with
  probability exactly r, and every stratum gets its share (never an accident of the dice).
- **Coverage.** A department with fewer than `min_per_department` drawn gets more of its own cases,
  drawn uniformly from the rest.
- **Reviewers.** The sample is shuffled and dealt round-robin to the reviewers (sorted, starting at
  a drawn offset): nobody chooses which cases they get, and the load differs by at most one.
- **Reproducible.** Every random number is HMAC-SHA256 of the recorded seed and a label naming its
  use (the stratum, the department, the deal), through `central.patrols.draw.KeyedStream`; groups and
  cases are ordered by code and case number, never by database ids or insertion order.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from central.patrols.draw import KeyedStream
from common.profiles.supervision import SamplingRules

logger = logging.getLogger(__name__)

ALGORITHM = "stratified-hmac-v1"
KINDS = ("revocation", "refusal", "correction", "extension", "suspension")  # ties go to the first
BASE = "base"
KIND_LABELS = {
    "refusal": "不予受理/不予许可",
    "correction": "补正",
    "revocation": "撤销",
    "extension": "延期",
    "suspension": "暂停计时",
    BASE: "一般",
}


@dataclass(frozen=True)
class Candidate:
    """A closed case of the month, as the draw sees it."""

    case_no: str
    department: str  # department code
    item: str  # item code
    kinds: frozenset[str]


@dataclass(frozen=True)
class Drawn:
    candidate: Candidate
    stratum: str  # the rate class it was drawn in, or "coverage" for a department's top-up
    reviewer: str


def rate_of(kinds: Iterable[str], rules: SamplingRules) -> tuple[float, str]:
    """(rate, class): the highest rate among the base rate and the case's kinds."""
    best, best_class = rules.base_rate, BASE
    for kind in KINDS:
        rate = float(getattr(rules, f"{kind}_rate"))
        if kind in kinds and rate > best:
            best, best_class = rate, kind
    return best, best_class


def population_digest(candidates: Iterable[Candidate]) -> str:
    """SHA-256 over the population's lines (case, department, item, kinds), sorted: an auditor's
    recomputed population either matches it or it did not stay the same."""
    lines = sorted(f"{c.case_no}|{c.department}|{c.item}|{','.join(sorted(c.kinds))}" for c in candidates)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _pick(pool: list[Candidate], count: int, stream: KeyedStream) -> list[Candidate]:
    """`count` of `pool` (sorted by case number) without replacement: a partial Fisher–Yates."""
    chosen = list(pool)
    for i in range(min(count, len(chosen))):
        j = i + min(int(stream.next() * (len(chosen) - i)), len(chosen) - i - 1)
        chosen[i], chosen[j] = chosen[j], chosen[i]
    return chosen[:count]


def draw_sample(
    candidates: Sequence[Candidate], *, seed: bytes, rules: SamplingRules, reviewers: Sequence[str]
) -> list[Drawn]:
    """The sample, in the order dealt (the reviewers' positions), or [] for an empty population."""
    if not reviewers:
        raise ValueError("a draw needs at least one reviewer")
    groups: dict[tuple[str, str, str], list[Candidate]] = defaultdict(list)
    rates: dict[str, float] = {}
    for candidate in candidates:
        rate, klass = rate_of(candidate.kinds, rules)
        rates[klass] = rate
        groups[(candidate.department, candidate.item, klass)].append(candidate)
    chosen: list[tuple[Candidate, str]] = []
    for (department, item, klass), pool in sorted(groups.items()):
        pool.sort(key=lambda c: c.case_no)
        stream = KeyedStream(seed, f"stratum:{department}:{item}:{klass}")
        target = rates[klass] * len(pool)
        count = math.floor(target)
        if stream.next() < target - count:
            count += 1
        chosen += [(c, klass) for c in _pick(pool, count, stream)]
    chosen += _coverage(candidates, chosen, seed=seed, minimum=rules.min_per_department)
    return _deal(chosen, seed=seed, reviewers=reviewers)


def _coverage(
    candidates: Sequence[Candidate], chosen: list[tuple[Candidate, str]], *, seed: bytes, minimum: int
) -> list[tuple[Candidate, str]]:
    taken = {c.case_no for c, _ in chosen}
    per_department: dict[str, int] = defaultdict(int)
    for candidate, _ in chosen:
        per_department[candidate.department] += 1
    rest: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        if candidate.case_no not in taken:
            rest[candidate.department].append(candidate)
    added: list[tuple[Candidate, str]] = []
    for department, pool in sorted(rest.items()):
        short = minimum - per_department[department]
        if short > 0:
            pool.sort(key=lambda c: c.case_no)
            stream = KeyedStream(seed, f"coverage:{department}")
            added += [(c, "coverage") for c in _pick(pool, short, stream)]
    return added


def _deal(chosen: list[tuple[Candidate, str]], *, seed: bytes, reviewers: Sequence[str]) -> list[Drawn]:
    ordered = sorted(chosen, key=lambda pair: pair[0].case_no)
    stream = KeyedStream(seed, "deal")
    shuffled = _pick([c for c, _ in ordered], len(ordered), stream)
    strata = {c.case_no: stratum for c, stratum in ordered}
    people = sorted(reviewers)
    offset = min(int(stream.next() * len(people)), len(people) - 1)
    return [
        Drawn(candidate=c, stratum=strata[c.case_no], reviewer=people[(offset + i) % len(people)])
        for i, c in enumerate(shuffled)
    ]


def sample_rates(rules: SamplingRules) -> Mapping[str, float]:
    """The rate of each class, for pages and the verify answer."""
    return {BASE: rules.base_rate, **{kind: float(getattr(rules, f"{kind}_rate")) for kind in KINDS}}
