"""Properties of the daily plan over 120 working days of the real Sichuan tree (SC-6(1)).

data/sichuan-regions.yaml: 21 cities, 183 counties, each given a centre. The simulation feeds each
day's draw back as history the way `central.patrols.service` does (days waited since last drawn).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from central.patrols.draw import fairness_bound
from central.patrols.plan import DayPlan, Reason, plan_day, province_pools
from common.profiles.loader import get_profile
from common.worktime import WorkCalendar
from common.worktime.official import official_years
from tests.central.patrols.sichuan import sichuan_tree

RULES = get_profile("sichuan-2011").patrols
CALENDAR = WorkCalendar(official_years())
DAYS = 120


@dataclass
class Run:
    plans: list[DayPlan]
    longest_wait: dict[str, int]
    drawn_count: Counter[str]
    days_off: int


def simulate(start: date, key: bytes, inspectors: dict[str, list[str]], days: int = DAYS) -> Run:
    tree = sichuan_tree()
    pools = province_pools(tree, lambda _code: RULES)
    waited: dict[str, dict[str, int]] = {p.key: {} for p in pools}
    run = Run([], Counter(), Counter(), 0)
    day = start
    while len(run.plans) < days:
        if not CALENDAR.is_workday(day):
            run.days_off += 1
            day += timedelta(days=1)
            continue
        for pool in pools:  # one more working day waited (0 on the day a region joins)
            waited[pool.key] = {
                c: waited[pool.key][c] + 1 if c in waited[pool.key] else 0 for c in pool.candidates
            }
        plan = plan_day(
            tree,
            day=day,
            day_ordinal=CALENDAR.count_through(day),
            rules_for=lambda _code: RULES,
            inspectors=inspectors,
            waited=waited,
            key=key,
        )
        for pool_key, codes in plan.drawn.items():
            for code in codes:
                run.longest_wait[pool_key] = max(run.longest_wait[pool_key], waited[pool_key][code])
                run.drawn_count[code] += 1
                waited[pool_key][code] = 0
        run.plans.append(plan)
        day += timedelta(days=1)
    for pool in pools:  # those never drawn again by the end waited too
        run.longest_wait[pool.key] = max(run.longest_wait[pool.key], *waited[pool.key].values())
    return run


starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2025, 6, 30))
keys = st.binary(min_size=32, max_size=32)
# Each example simulates 120 days (about a second): few examples, and no shrinking (a failure prints
# its start and key, which is all a rerun needs).
SLOW = settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)


@SLOW
@given(start=starts, key=keys)
def test_every_quota_is_met_on_every_working_day_and_nothing_on_days_off(start: date, key: bytes) -> None:
    tree = sichuan_tree()
    run = simulate(start, key, {})
    assert run.days_off > 0  # the stretch crosses weekends (and holidays), which get no plan
    for plan in run.plans:
        assert CALENDAR.is_workday(plan.day)
        assert not plan.gaps
        owed = Counter((p.body, p.region, p.reason) for p in plan.patrols)
        assert owed[("510000", "510000", Reason.OWN_CENTRE)] == 2
        assert len(plan.drawn["510000:city"]) == 2 and len(set(plan.drawn["510000:city"])) == 2
        assert len(plan.drawn["510000:county"]) == 8 and len(set(plan.drawn["510000:county"])) == 8
        for code in plan.drawn["510000:city"]:
            assert owed[("510000", code, Reason.CHOSEN_CITY)] == 1
        for code in plan.drawn["510000:county"]:
            assert owed[("510000", code, Reason.CHOSEN_COUNTY)] == 1
        for code, node in tree.items():
            if node.level == "city":
                assert owed[(code, code, Reason.OWN_CENTRE)] == 2
                for county in (c for c, n in tree.items() if n.parent == code):
                    assert owed[(code, county, Reason.CITY_COUNTY)] == 1
            if node.level == "county":
                assert owed[(code, code, Reason.OWN_CENTRE)] == 2
        assert len(plan.patrols) == 2 + 2 + 8 + 21 * 2 + 183 + 183 * 2


@SLOW
@given(start=starts, key=keys)
def test_nobody_waits_longer_than_twice_the_fair_gap_and_all_are_drawn_about_equally(
    start: date, key: bytes
) -> None:
    run = simulate(start, key, {})
    assert run.longest_wait["510000:city"] <= fairness_bound(21, 2) == 21
    assert run.longest_wait["510000:county"] <= fairness_bound(183, 8) == 45
    cities = [run.drawn_count[c] for c, n in sichuan_tree().items() if n.level == "city"]
    counties = [run.drawn_count[c] for c, n in sichuan_tree().items() if n.level == "county"]
    # Fair shares 11.4 and 5.2; seen 9..15 and 3..9 (an independent uniform draw spreads counties 0..12).
    fair_city, fair_county = DAYS * 2 / 21, DAYS * 8 / 183
    assert all(fair_city / 2 <= n <= fair_city * 2 for n in cities), sorted(cities)
    assert all(fair_county / 2 <= n <= fair_county * 2 for n in counties), sorted(counties)


@SLOW
@given(start=starts, key=keys)
def test_a_plan_recomputed_from_the_same_key_is_identical_and_another_key_differs(
    start: date, key: bytes
) -> None:
    first, again = simulate(start, key, {}), simulate(start, key, {})
    assert [p.drawn for p in first.plans] == [p.drawn for p in again.plans]
    assert [p.patrols for p in first.plans] == [p.patrols for p in again.plans]
    other = simulate(start, bytes(b ^ 0xFF for b in key), {}, days=5)
    assert [p.drawn for p in other.plans] != [p.drawn for p in first.plans[:5]]


def test_todays_draw_does_not_tell_tomorrows() -> None:
    """Without the key, knowing every draw so far leaves tomorrow open: over many keys, the county
    drawn first tomorrow after the same 30 days is spread over many counties."""
    first_picks: Counter[str] = Counter()
    for seed in range(40):
        run = simulate(date(2025, 3, 3), seed.to_bytes(32, "big"), {}, days=31)
        first_picks[run.plans[30].drawn["510000:county"][0]] += 1
    assert len(first_picks) >= 25 and max(first_picks.values()) <= 5


def test_tasks_go_round_each_bodys_inspectors_evenly() -> None:
    inspectors = {"510000": ["a", "b", "c"], "510100": ["x", "y"]}
    run = simulate(date(2025, 3, 3), bytes(32), inspectors, days=20)
    totals: Counter[str | None] = Counter()
    for plan in run.plans[:20]:
        per_day = Counter(p.inspector for p in plan.patrols if p.body == "510000")
        assert sum(per_day.values()) == 12 and max(per_day.values()) - min(per_day.values()) <= 1
        centre = [p.inspector for p in plan.patrols if p.body == "510000" and p.reason is Reason.OWN_CENTRE]
        assert len(set(centre)) == 2  # the centre's two patrols go to two people
        totals.update(p.inspector for p in plan.patrols if p.body == "510100")
        assert all(p.inspector is None for p in plan.patrols if p.body == "510104")  # a body with nobody
    assert max(totals.values()) - min(totals.values()) <= 1
