"""How each change from central applies to the agent's feed state: a table of events, garbage included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall_display.feed_client import Backoff
from hall_display.state import FeedDataError, FeedState, apply, from_snapshot, parse_event_id, touch
from tests.hall_display import samples

NOW = datetime(2026, 5, 11, 3, 0, tzinfo=UTC)
BASE = from_snapshot(samples.snapshot(10, [samples.case(1), samples.case(2)]), NOW - timedelta(minutes=5))
CASE_3 = samples.case(3).model_dump_json()
CASE_1_RED = samples.case(1, stage="审批中", light="red").model_dump_json()


@pytest.mark.parametrize(
    ("name", "event_id", "data", "cases", "last_id", "relayed"),
    [
        ("case", "11", CASE_3, ["SC2026000001", "SC2026000002", "SC2026000003"], 11, "case"),
        ("case", 11, CASE_1_RED, ["SC2026000001", "SC2026000002"], 11, "case"),  # replaced in place
        ("case", "10", CASE_3, ["SC2026000001", "SC2026000002"], 10, None),  # a repeat: ignored
        ("case", "3", CASE_3, ["SC2026000001", "SC2026000002"], 10, None),  # old: ignored
        ("case", "15", CASE_3, ["SC2026000001", "SC2026000002", "SC2026000003"], 15, "case"),  # a gap
        ("case_removed", "11", '{"case_no": "SC2026000001"}', ["SC2026000002"], 11, "case_removed"),
        ("case_removed", "11", '{"case_no": "NOPE"}', ["SC2026000001", "SC2026000002"], 11, "case_removed"),
        (
            "summary",
            "11",
            samples.summary(9).model_dump_json(),
            ["SC2026000001", "SC2026000002"],
            11,
            "summary",
        ),
        ("notices", "11", '{"notices": []}', ["SC2026000001", "SC2026000002"], 11, "notices"),
        ("future_thing", "11", "{}", ["SC2026000001", "SC2026000002"], 11, None),  # unknown: id taken
        ("message", "11", "hello", ["SC2026000001", "SC2026000002"], 11, None),
        (
            "snapshot",
            "12",
            samples.snapshot(12, [samples.case(3)]).model_dump_json(),
            ["SC2026000003"],
            12,
            "snapshot",
        ),
        # After a database restore central's ids start lower; its snapshot says so and replaces all.
        ("snapshot", "2", samples.snapshot(2, [], reason="ahead").model_dump_json(), [], 2, "snapshot"),
    ],
)
def test_an_event_applies_once(
    name: str, event_id: str | int, data: str, cases: list[str], last_id: int, relayed: str | None
) -> None:
    state, change = apply(BASE, name, event_id, data, now=NOW)
    assert list(state.cases) == cases and state.last_event_id == last_id
    assert (change.name if change else None) == relayed
    if relayed:
        assert change is not None and change.id == last_id and state.updated_at == NOW
    again, repeat = apply(state, name, event_id, data, now=NOW)
    if name != "snapshot":
        assert (again, repeat) == (state, None)  # never applied twice


def test_the_changed_case_and_summary_are_the_new_ones() -> None:
    state, _ = apply(BASE, "case", "11", CASE_1_RED, now=NOW)
    assert (state.cases["SC2026000001"].light, state.cases["SC2026000001"].stage) == ("red", "审批中")
    state, _ = apply(state, "summary", "12", samples.summary(9).model_dump_json(), now=NOW)
    assert state.summary is not None and state.summary.received == 9
    state, _ = apply(state, "notices", "13", '{"notices": [{"id": 4, "text": "停电"}]}', now=NOW)
    assert [n.text for n in state.notices] == ["停电"]
    assert BASE.last_event_id == 10 and len(BASE.cases) == 2  # the old state is untouched


@pytest.mark.parametrize(
    ("name", "event_id", "data"),
    [
        ("case", None, CASE_3),  # no id
        ("case", "eleven", CASE_3),
        ("case", "-1", CASE_3),
        ("case", "１２", CASE_3),  # full-width digits
        ("case", "1" * 40, CASE_3),
        ("case", "11", '{"case_no": '),  # broken JSON
        ("case", "11", "[]"),
        ("case", "11", '{"case_no": "X"}'),  # fields missing
        ("case_removed", "11", "{}"),
        ("summary", "11", '{"day": "2026-13-01"}'),
        ("notices", "11", '{"notices": [{"id": 1, "text": "' + "长" * 501 + '"}]}'),
        ("snapshot", "11", "{}"),
        ("snapshot", "11", "not json at all"),
    ],
)
def test_an_event_that_breaks_the_contract_is_an_error(name: str, event_id: str | None, data: str) -> None:
    with pytest.raises(FeedDataError):
        apply(BASE, name, event_id, data, now=NOW)


def test_an_empty_state_has_no_snapshot_until_central_gives_one() -> None:
    empty = FeedState()
    assert empty.to_snapshot() is None and not empty.has_snapshot
    assert touch(empty, NOW) == empty
    state, change = apply(
        empty, "snapshot", "5", samples.snapshot(5, [samples.case(1)]).model_dump_json(), now=NOW
    )
    snapshot = state.to_snapshot("behind")
    assert snapshot is not None and snapshot.reason == "behind" and snapshot.generated_at == NOW
    assert change is not None and change.id == 5
    assert touch(state, NOW + timedelta(seconds=15)).updated_at == NOW + timedelta(seconds=15)


@given(st.lists(st.tuples(st.integers(min_value=1, max_value=30), st.integers(min_value=1, max_value=6))))
def test_any_order_of_deliveries_ends_like_the_changes_in_order(deliveries: list[tuple[int, int]]) -> None:
    """Repeats and stale ids (a resumed stream overlapping) never change the outcome: each id counts
    once, the first time it is seen above the last one."""
    state = BASE
    expected = dict(BASE.cases)
    last = BASE.last_event_id
    for event_id, number in deliveries:
        case = samples.case(number, stage=f"环节{event_id}")
        state, _ = apply(state, "case", str(event_id), case.model_dump_json(), now=NOW)
        if event_id > last:
            expected[case.case_no], last = case, event_id
    assert dict(state.cases) == expected and state.last_event_id == last


@pytest.mark.parametrize(
    ("raw", "number"),
    [("0", 0), (" 42 ", 42), (7, 7), (None, None), ("", "error"), ("1e3", "error"), (-3, "error")],
)
def test_event_ids(raw: str | int | None, number: int | str | None) -> None:
    if number == "error":
        with pytest.raises(FeedDataError):
            parse_event_id(raw)
    else:
        assert parse_event_id(raw) == number


def test_reconnect_waits_double_jittered_up_to_the_most_and_start_over() -> None:
    backoff = Backoff(most=30.0)
    waits = [backoff.next() for _ in range(12)]
    bounds = [min(30.0, 2.0**n) for n in range(12)]
    assert all(b / 2 <= w <= b for w, b in zip(waits, bounds, strict=True))
    backoff.reset()
    assert backoff.next() <= 1.0
