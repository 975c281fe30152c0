"""One working day's patrol plan (SC-6(1)), computed from the region tree, the quotas and the draw.

The supervising bodies are the registry's regions (省/市/县 监察机构), each with its own service
centre (the hall of the region's level). Per working day:
- the province patrols its centre `province_centre_times` and the centres of
  `province_cities_chosen` cities and `province_counties_chosen` counties it draws
  (`central.patrols.draw`) `chosen_times` each;
- a city patrols its centre `city_centre_times` and each of its counties' centres `city_county_times`;
- a county patrols its centre `county_centre_times`.
A department's supervision office patrols as its work needs: no task. Each patrol is one task,
and a body's tasks go round its inspectors in turn from an offset that moves each day, so loads
differ by at most one a day and even out over days.

Pure: the caller reads the tree, the inspectors and the pools' history (`central.patrols.service`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from central.patrols.draw import PoolState, draw, fairness_bound
from common.profiles.schema import PatrolRules

logger = logging.getLogger(__name__)

CENTRE_LEVEL = {"province": "provincial", "city": "city", "county": "county"}


class Reason(StrEnum):
    OWN_CENTRE = "own_centre"  # a body's own centre
    CHOSEN_CITY = "chosen_city"  # drawn by the province today
    CHOSEN_COUNTY = "chosen_county"  # drawn by the province today
    CITY_COUNTY = "city_county"  # a city's county


REASON_LABELS = {
    Reason.OWN_CENTRE: "本级中心",
    Reason.CHOSEN_CITY: "抽选市（州）",
    Reason.CHOSEN_COUNTY: "抽选县（市、区）",
    Reason.CITY_COUNTY: "所辖县（市、区）",
}


@dataclass(frozen=True)
class RegionNode:
    code: str
    name: str
    level: str  # province | city | county
    parent: str | None
    centre: str | None  # the code of the region's own service centre, None when none is registered


@dataclass(frozen=True)
class PlannedPatrol:
    body: str  # the supervising body's region code
    hall: str  # the centre to patrol
    region: str  # the region of that centre
    reason: Reason
    seq: int  # 1..times for the same body and centre
    inspector: str | None  # username; None when the body has no inspector


@dataclass(frozen=True)
class Pool:
    """A province's candidates for one kind of draw, and how many it picks a day."""

    key: str  # e.g. "510000:county"
    province: str
    level: str  # city | county
    candidates: tuple[str, ...]  # region codes with a centre, sorted
    picks: int


@dataclass
class DayPlan:
    day: date
    patrols: list[PlannedPatrol] = field(default_factory=list)
    drawn: dict[str, list[str]] = field(default_factory=dict)  # pool key -> region codes, in draw order
    gaps: list[str] = field(default_factory=list)  # regions a quota names but that have no centre


def province_pools(tree: Mapping[str, RegionNode], rules_for: Callable[[str], PatrolRules]) -> list[Pool]:
    """Each province's city and county pools (only regions with a registered centre can be drawn)."""
    pools = []
    children = _children(tree)
    for province in sorted(c for c, n in tree.items() if n.level == "province"):
        rules = rules_for(province)
        below = _descendants(children, province)
        for level, picks in (
            ("city", rules.province_cities_chosen),
            ("county", rules.province_counties_chosen),
        ):
            if picks <= 0:
                continue
            candidates = tuple(sorted(c for c in below if tree[c].level == level and tree[c].centre))
            pools.append(Pool(f"{province}:{level}", province, level, candidates, picks))
    return pools


def plan_day(
    tree: Mapping[str, RegionNode],
    *,
    day: date,
    day_ordinal: int,
    rules_for: Callable[[str], PatrolRules],
    inspectors: Mapping[str, Sequence[str]],
    waited: Mapping[str, Mapping[str, int]],
    key: bytes,
) -> DayPlan:
    """The day's plan. `waited[pool][region]`: working days since the region was last drawn by that
    pool (or joined it) through `day`; a candidate missing there joins today (0)."""
    plan = DayPlan(day)
    for pool in province_pools(tree, rules_for):
        known = waited.get(pool.key, {})
        state = PoolState(
            {c: known.get(c, 0) for c in pool.candidates},
            bound=fairness_bound(len(pool.candidates), pool.picks),
        )
        plan.drawn[pool.key] = draw(state, picks=pool.picks, key=key, pool=pool.key, day=day)
    children = _children(tree)
    for body in sorted(tree):
        wanted = _wanted(tree, children, body, rules_for(body), plan)
        plan.patrols.extend(_assign(tree, body, wanted, inspectors.get(body, ()), day_ordinal))
    return plan


def _wanted(
    tree: Mapping[str, RegionNode],
    children: Mapping[str, list[str]],
    body: str,
    rules: PatrolRules,
    plan: DayPlan,
) -> list[tuple[str, Reason, int]]:
    """(region, reason, times) the body must patrol today; regions without a centre noted as gaps."""
    node = tree[body]
    wanted: list[tuple[str, Reason, int]] = []
    if node.level == "province":
        wanted.append((body, Reason.OWN_CENTRE, rules.province_centre_times))
        wanted += [(c, Reason.CHOSEN_CITY, rules.chosen_times) for c in plan.drawn.get(f"{body}:city", [])]
        wanted += [
            (c, Reason.CHOSEN_COUNTY, rules.chosen_times) for c in plan.drawn.get(f"{body}:county", [])
        ]
    elif node.level == "city":
        wanted.append((body, Reason.OWN_CENTRE, rules.city_centre_times))
        counties = sorted(c for c in _descendants(children, body) if tree[c].level == "county")
        wanted += [(c, Reason.CITY_COUNTY, rules.city_county_times) for c in counties]
    elif node.level == "county":
        wanted.append((body, Reason.OWN_CENTRE, rules.county_centre_times))
    kept = []
    for region, reason, times in wanted:
        if times <= 0:
            continue
        if tree[region].centre is None:
            if region not in plan.gaps:
                plan.gaps.append(region)
            continue
        kept.append((region, reason, times))
    return kept


def _assign(
    tree: Mapping[str, RegionNode],
    body: str,
    wanted: list[tuple[str, Reason, int]],
    inspectors: Sequence[str],
    day_ordinal: int,
) -> list[PlannedPatrol]:
    people = sorted(inspectors)
    patrols = []
    index = 0
    for region, reason, times in wanted:
        for seq in range(1, times + 1):
            who = people[(day_ordinal + index) % len(people)] if people else None
            index += 1
            centre = tree[region].centre
            assert centre is not None  # regions without a centre were set aside as gaps
            patrols.append(PlannedPatrol(body, centre, region, reason, seq, who))
    return patrols


def _children(tree: Mapping[str, RegionNode]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for code, node in tree.items():
        if node.parent is not None and node.parent in tree:
            children.setdefault(node.parent, []).append(code)
    return children


def _descendants(children: Mapping[str, list[str]], root: str) -> list[str]:
    found: list[str] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found
