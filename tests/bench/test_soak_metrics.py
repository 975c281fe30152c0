"""The soak's own arithmetic (bench/soak_metrics.py), on hand-made timelines: which phase a delivery
counts in, and how long each fault's recovery took. A fault at 100–110 s, the next at 140–150 s, the
run ending at 200 s; samples are (kind, began, done)."""

from __future__ import annotations

import math

import pytest

from bench.soak_faults import Fault
from bench.soak_metrics import Sample, overtaken, phase_of, phases, recovery, steady


async def _nothing() -> None:
    return None


def _fault(name: str, start: float, end: float) -> Fault:
    return Fault(name, name, lambda _e: True, _nothing, _nothing, start=start, end=end)


CUT_FAULT, LINK_CUT = _fault("central A killed", 100, 110), _fault("halls' link cut", 140, 150)
CUT = phases(0.0, 200.0, 20.0, [CUT_FAULT, LINK_CUT])


@pytest.mark.parametrize(
    ("sample", "phase"),
    [
        (("press", 50.0, 50.1), "steady"),
        (("press", 99.5, 99.9), "steady"),  # done before the fault began
        (("press", 99.5, 112.0), "central A killed"),  # in flight for 0.5 s when it began: the fault's
        (("press", 97.0, 112.0), "steady"),  # already 3 s late when it began: slow in the steady time
        (("press", 99.5, None), "central A killed"),  # never delivered, overtaken
        (("press", 139.8, 151.0), "halls' link cut"),  # overtaken at the end of the time after a fault
        (("press", 105.0, 111.0), "central A killed"),
        (("press", 10.0, 10.1), "warm-up"),
    ],
)
def test_each_delivery_counts_where_it_began_unless_a_fault_overtook_it(sample: Sample, phase: str) -> None:
    found = phase_of(sample, CUT)
    assert found is not None and found.name == phase
    assert steady(sample, CUT) == (phase == "steady")


def test_overtaken_means_in_flight_and_not_yet_late() -> None:
    assert overtaken(("p", 99.2, 101.0), 100.0)
    assert not overtaken(("p", 98.5, 101.0), 100.0), "1.5 s old when the fault began: already late"
    assert not overtaken(("p", 99.2, 99.9), 100.0), "done before"
    assert not overtaken(("p", 100.5, 101.0), 100.0), "began during the fault"


def test_recovery_ends_at_the_last_slow_delivery_and_never_runs_into_the_next_fault() -> None:
    backlog = [("p", 111.0, 118.0), ("p", 115.0, 125.0), ("p", 126.0, 126.2)]  # slow until 125 s, then fine
    assert recovery(CUT_FAULT, 140.0, backlog, next_fault=True) == pytest.approx(15.0)
    caught = [*backlog, ("p", 139.5, 151.0)]  # overtaken by the link cut: not this fault's
    assert recovery(CUT_FAULT, 140.0, caught, next_fault=True) == pytest.approx(15.0)
    late = [*backlog, ("p", 137.0, 151.0)]  # 3 s late when the link was cut: not recovered before 140
    assert recovery(CUT_FAULT, 140.0, late, next_fault=True) == pytest.approx(30.0)
    assert recovery(CUT_FAULT, 140.0, [("p", 120.0, None)], next_fault=False) == math.inf
    assert recovery(CUT_FAULT, 140.0, [("p", 120.0, 120.5)], next_fault=True) == 0.0
