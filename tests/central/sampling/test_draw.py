"""The sampling draw itself (pure): the same seed draws the same sample, every stratum gets its
share at its class's rate, the oversampling rates hold over many draws (hypothesis), departments
are covered, and the reviewers' loads differ by at most one."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from central.sampling.draw import BASE, KINDS, Candidate, draw_sample, population_digest, rate_of
from common.profiles.supervision import SamplingRules

RULES = SamplingRules(
    base_rate=0.1,
    refusal_rate=0.5,
    correction_rate=0.3,
    revocation_rate=1.0,
    extension_rate=0.4,
    suspension_rate=0.25,
    min_per_department=0,
)
REVIEWERS = ["chengdu", "sichuan", "sichuan2"]


def _seed(n: int) -> bytes:
    return n.to_bytes(32, "big")


@st.composite
def populations(draw: st.DrawFn) -> list[Candidate]:
    size = draw(st.integers(min_value=1, max_value=120))
    cases = []
    for n in range(size):
        kinds = draw(st.frozensets(st.sampled_from(KINDS), max_size=2))
        department = draw(st.sampled_from(["D1", "D2", "D3"]))
        item = draw(st.sampled_from(["I1", "I2"]))
        cases.append(
            Candidate(case_no=f"C{n:04d}", department=department, item=f"{department}-{item}", kinds=kinds)
        )
    return cases


def test_the_same_seed_draws_the_same_sample_and_another_seed_another() -> None:
    cases = [Candidate(f"C{n:03d}", f"D{n % 4}", f"I{n % 7}", frozenset()) for n in range(300)]
    first = draw_sample(cases, seed=_seed(1), rules=RULES, reviewers=REVIEWERS)
    again = draw_sample(
        list(reversed(cases)), seed=_seed(1), rules=RULES, reviewers=list(reversed(REVIEWERS))
    )
    other = draw_sample(cases, seed=_seed(2), rules=RULES, reviewers=REVIEWERS)
    assert first == again  # neither the population's order nor the reviewers' changes anything
    assert [d.candidate.case_no for d in first] != [d.candidate.case_no for d in other]


def test_a_case_draws_at_its_highest_kind_rate() -> None:
    assert rate_of(frozenset(), RULES) == (0.1, BASE)
    assert rate_of(frozenset({"correction", "refusal"}), RULES) == (0.5, "refusal")
    assert rate_of(frozenset({"revocation", "extension"}), RULES) == (1.0, "revocation")


@settings(max_examples=40, deadline=None)
@given(populations(), st.integers(min_value=0, max_value=2**64))
def test_each_stratum_gets_its_rate_rounded_and_loads_are_even(cases: list[Candidate], seed: int) -> None:
    drawn = draw_sample(cases, seed=_seed(seed), rules=RULES, reviewers=REVIEWERS)
    sizes: Counter[tuple[str, str, str]] = Counter()
    for case in cases:
        sizes[(case.department, case.item, rate_of(case.kinds, RULES)[1])] += 1
    got = Counter((d.candidate.department, d.candidate.item, d.stratum) for d in drawn)
    for (department, item, klass), n in sizes.items():
        target = rate_of(frozenset() if klass == BASE else {klass}, RULES)[0] * n
        assert math.floor(target) <= got[(department, item, klass)] <= math.ceil(target)
    assert len({d.candidate.case_no for d in drawn}) == len(drawn)
    loads = Counter(d.reviewer for d in drawn)
    if drawn:
        assert max(loads.values()) - min(loads.get(r, 0) for r in REVIEWERS) <= 1


@settings(max_examples=15, deadline=None)
@given(populations())
def test_the_oversampling_rates_hold_over_many_draws(cases: list[Candidate]) -> None:
    """Over 400 seeds each case is drawn about as often as its class's rate says (≥ 4 standard
    deviations of slack for 400 trials), and each class's share drawn matches its rate."""
    draws = 400
    times: Counter[str] = Counter()
    per_class: dict[str, list[int]] = defaultdict(list)
    for seed in range(draws):
        drawn = draw_sample(cases, seed=_seed(seed), rules=RULES, reviewers=REVIEWERS)
        times.update(d.candidate.case_no for d in drawn)
        counted = Counter(d.stratum for d in drawn)
        for klass in {rate_of(c.kinds, RULES)[1] for c in cases}:
            per_class[klass].append(counted[klass])
    for case in cases:
        rate = rate_of(case.kinds, RULES)[0]
        slack = 4 * math.sqrt(rate * (1 - rate) / draws) + 1e-9
        assert abs(times[case.case_no] / draws - rate) <= slack, (case, times[case.case_no])
    for klass, counts in per_class.items():
        members = sum(1 for c in cases if rate_of(c.kinds, RULES)[1] == klass)
        rate = rate_of(frozenset() if klass == BASE else {klass}, RULES)[0]
        assert abs(sum(counts) / draws / members - rate) <= 0.05


def test_every_department_is_covered_at_the_minimum() -> None:
    rules = RULES.model_copy(update={"min_per_department": 2, "base_rate": 0.0, "refusal_rate": 0.0})
    rules = SamplingRules.model_validate(rules.model_dump())
    cases = [Candidate(f"C{n:03d}", f"D{n % 5}", "I", frozenset()) for n in range(40)]
    drawn = draw_sample(cases, seed=_seed(9), rules=rules, reviewers=REVIEWERS)
    per_department = Counter(d.candidate.department for d in drawn)
    assert per_department == {f"D{n}": 2 for n in range(5)}
    assert {d.stratum for d in drawn} == {"coverage"}


def test_the_population_digest_ignores_order_but_not_content() -> None:
    cases = [Candidate(f"C{n}", "D", "I", frozenset({"refusal"} if n == 2 else ())) for n in range(5)]
    assert population_digest(cases) == population_digest(reversed(cases))
    changed = [*cases[:2], Candidate("C2", "D", "I", frozenset()), *cases[3:]]
    assert population_digest(changed) != population_digest(cases)
