"""The keyed, fair draw (central/patrols/draw.py, SC-6(1)): tables of states and what must be drawn."""

from __future__ import annotations

from datetime import date

import pytest

from central.patrols.draw import KeyedStream, PoolState, draw, fairness_bound

KEY = bytes(range(32))
DAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("candidates", "picks", "bound"),
    [(183, 8, 45), (21, 2, 21), (10, 2, 10), (3, 5, 1), (0, 2, 1), (1, 1, 2)],
)
def test_fairness_bound_is_twice_the_fair_gap_rounded_down(candidates: int, picks: int, bound: int) -> None:
    assert fairness_bound(candidates, picks) == bound


def test_a_pool_drawing_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        fairness_bound(5, 0)


def test_the_stream_is_reproducible_from_the_key_and_differs_without_it() -> None:
    first = KeyedStream(KEY, "p:2026-11-27").next()
    assert KeyedStream(KEY, "p:2026-11-27").next() == first
    assert KeyedStream(bytes(32), "p:2026-11-27").next() != first
    assert all(0 <= KeyedStream(KEY, f"x{i}").next() < 1 for i in range(100))


def test_the_same_key_state_and_day_draw_the_same() -> None:
    state = PoolState({f"c{i:02d}": i % 7 for i in range(21)}, bound=21)
    assert draw(state, picks=2, key=KEY, pool="p:city", day=DAY) == draw(
        state, picks=2, key=KEY, pool="p:city", day=DAY
    )


def test_another_key_or_day_draws_differently_somewhere() -> None:
    state = PoolState({f"c{i:03d}": 10 for i in range(183)}, bound=45)
    base = draw(state, picks=8, key=KEY, pool="p:county", day=DAY)
    assert len(set(base)) == 8
    assert draw(state, picks=8, key=bytes(32), pool="p:county", day=DAY) != base
    assert draw(state, picks=8, key=KEY, pool="p:county", day=date(2026, 11, 30)) != base


@pytest.mark.parametrize(
    ("waited", "bound", "picks", "must"),
    [
        # at the bound: today is the last chance
        ({"a": 10, "b": 1, "c": 1, "d": 1}, 10, 1, {"a"}),
        # two due within one day and one slot a day: one today, both before either is late
        ({"a": 9, "b": 10, "c": 1}, 10, 1, {"b"}),
        # overdue (the server missed days) comes first
        ({"a": 12, "b": 11, "c": 3}, 10, 2, {"a", "b"}),
        # three due within two more days, one slot a day: today must take one of them
        ({"a": 8, "b": 8, "c": 8, "e": 1, "f": 1}, 10, 1, None),
    ],
)
def test_deadlines_force_the_draw(
    waited: dict[str, int], bound: int, picks: int, must: set[str] | None
) -> None:
    for day in range(30):  # whatever the stream says
        drawn = draw(PoolState(waited, bound), picks=picks, key=KEY, pool="p", day=date(2026, 1, 1 + day))
        if must is not None:
            assert must <= set(drawn)
        else:
            assert set(drawn) <= {"a", "b", "c"}


def test_fewer_candidates_than_picks_draws_them_all() -> None:
    assert sorted(draw(PoolState({"a": 1, "b": 2}, 1), picks=8, key=KEY, pool="p", day=DAY)) == ["a", "b"]
    assert draw(PoolState({}, 1), picks=2, key=KEY, pool="p", day=DAY) == []
