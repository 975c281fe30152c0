"""The binding rules of `central.ratings.binding` (一次一评, 一事一评), as a table: prompts and stored
ratings, presses (given in any order), and what each press does. Default profile thresholds:
prompt valid 180 s, correction 10 s, burst = 3rd press within 5 s (weight 0.25), 差评 <= 2."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from central.ratings.binding import (
    Action,
    BindingState,
    Chain,
    Press,
    Prompt,
    bind_presses,
    chain_of,
    turns_bad,
)
from common.profiles.schema import RatingRules

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
RULES = RatingRules()
B, R, H, U = Action.BIND, Action.REPLACE, Action.HISTORY, Action.UNBOUND


def t(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def prompt(pid: int, case: int, opened: float, *, window: int = 1, valid: float = 180) -> Prompt:
    return Prompt(id=pid, window_id=window, case_id=case, opened_at=t(opened), expires_at=t(opened + valid))


@dataclass
class Row:
    name: str
    prompts: list[Prompt]
    presses: list[tuple[float, int]]  # (seconds, key) at window 1, keypad "k", in the order received
    expected: list[tuple[Action, int | None]]  # (action, prompt id) in press-time order
    chains: dict[int, list[tuple[float, int]]] = field(default_factory=dict)  # stored ratings
    rated_cases: set[int] = field(default_factory=set)
    bursts: list[bool] | None = None  # in press-time order; None: no burst


TABLE = [
    Row("press within a prompt binds", [prompt(1, 10, 0)], [(30, 5)], [(B, 1)]),
    Row("press before any prompt is unbound", [prompt(1, 10, 100)], [(30, 5)], [(U, None)]),
    Row("press after the prompt expired is unbound", [prompt(1, 10, 0)], [(181, 5)], [(U, None)]),
    Row("press at the last valid instant binds", [prompt(1, 10, 0)], [(180, 4)], [(B, 1)]),
    Row(
        "second press within the correction time replaces, third too",
        [prompt(1, 10, 0)],
        [(20, 5), (26, 2), (30, 3)],
        [(B, 1), (R, 1), (R, 1)],
    ),
    Row(
        "a press past the correction time is unbound",
        [prompt(1, 10, 0)],
        [(20, 5), (31, 1)],
        [(B, 1), (U, None)],
    ),
    Row(
        "the newest prompt on display wins; an older unrated one is not revived",
        [prompt(1, 10, 0), prompt(2, 20, 30)],
        [(40, 5), (100, 4)],
        [(B, 2), (U, None)],
    ),
    Row(
        "two cases one after the other each get their press",
        [prompt(1, 10, 0), prompt(2, 20, 60)],
        [(20, 5), (70, 3)],
        [(B, 1), (B, 2)],
    ),
    Row(
        "presses arrive out of order and are decided by press time",
        [prompt(1, 10, 0), prompt(2, 20, 60)],
        [(70, 3), (25, 1), (20, 5)],
        [(B, 1), (R, 1), (B, 2)],
    ),
    Row(
        "a late press earlier than the stored binding press goes to history",
        [prompt(1, 10, 0)],
        [(15, 3)],
        [(H, 1)],
        chains={1: [(20, 5)]},
        rated_cases={10},
    ),
    Row(
        "a press after a stored rating within the correction time replaces it",
        [prompt(1, 10, 0)],
        [(28, 2)],
        [(R, 1)],
        chains={1: [(20, 5)]},
        rated_cases={10},
    ),
    Row(
        "a case rated through another channel is not bound again",
        [prompt(1, 10, 0)],
        [(20, 5)],
        [(U, None)],
        rated_cases={10},
    ),
    Row(
        "the third press within 5 s is a burst, and the fourth",
        [prompt(1, 10, 0)],
        [(20, 5), (21, 5), (22, 5), (23, 5), (40, 5)],
        [(B, 1), (R, 1), (R, 1), (R, 1), (U, None)],
        bursts=[False, False, True, True, False],
    ),
    Row(
        "presses 5 s or more apart make no burst",
        [],
        [(0, 1), (5.5, 1), (11, 1)],
        [(U, None), (U, None), (U, None)],
    ),
]


@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_binding_table(row: Row) -> None:
    state = BindingState(
        rules=RULES,
        prompts=row.prompts,
        chains={pid: Chain([(t(s), level) for s, level in chain]) for pid, chain in row.chains.items()},
        rated_cases=set(row.rated_cases),
    )
    presses = [
        Press(ref=i, window_id=1, keypad="k", key=key, at=t(s)) for i, (s, key) in enumerate(row.presses)
    ]
    decisions = bind_presses(presses, state)
    assert [(d.action, d.prompt_id) for d in decisions] == row.expected
    assert [d.press.at for d in decisions] == sorted(p.at for p in presses)
    assert [d.burst for d in decisions] == (row.bursts or [False] * len(presses))


def test_a_replace_names_what_it_replaced_and_a_late_press_where_it_goes() -> None:
    state = BindingState(rules=RULES, prompts=[prompt(1, 10, 0)])
    first, second = bind_presses([Press(0, 1, "k", 2, t(26)), Press(1, 1, "k", 5, t(20))], state)
    assert (first.action, first.moves_first, first.outcome) == (B, False, "bound")
    assert (second.action, second.replaced, second.outcome) == (R, (t(20), 5), "replaced")
    # a later batch brings a press made before both (an outbox drained late): history only
    [late] = bind_presses([Press(0, 1, "k", 3, t(14))], state)
    assert (late.action, late.superseded_at, late.moves_first, late.outcome) == (H, t(20), True, "replaced")
    [between] = bind_presses([Press(0, 1, "k", 4, t(23))], state)
    assert (between.action, between.superseded_at, between.moves_first) == (H, t(26), False)
    assert state.chains[1].presses == [(t(14), 3), (t(20), 5), (t(23), 4), (t(26), 2)]


def test_presses_of_other_windows_and_keypads_do_not_mix() -> None:
    state = BindingState(rules=RULES, prompts=[prompt(1, 10, 0, window=1), prompt(2, 20, 0, window=2)])
    presses = [Press(i, 1 + i % 2, f"k{i % 2}", 4, t(10 + i)) for i in range(4)]
    decisions = bind_presses(presses, state)
    assert [(d.press.window_id, d.action, d.prompt_id, d.burst) for d in decisions] == [
        (1, B, 1, False),
        (2, B, 2, False),
        (1, R, 1, False),
        (2, R, 2, False),
    ]


def test_stored_presses_count_towards_a_burst() -> None:
    state = BindingState(rules=RULES, recent={(1, "k"): [t(1), t(0)]})
    [decision] = bind_presses([Press(0, 1, "k", 5, t(3))], state)
    assert (decision.action, decision.burst, decision.outcome) == (U, True, "burst")


def test_chain_of_a_stored_rating() -> None:
    chain = chain_of(level=1, rated_at=t(20), revisions=[(4, t(25), t(28)), (5, t(20), t(25))])
    assert chain.presses == [(t(20), 5), (t(25), 4), (t(28), 1)]
    assert chain_of(level=3, rated_at=t(20), revisions=[]).presses == [(t(20), 3)]


@pytest.mark.parametrize(
    ("action", "key", "replaced", "expected"),
    [
        (B, 2, None, True),
        (B, 3, None, False),
        (U, 1, None, True),
        (R, 1, (t(0), 4), True),  # corrected into 差评
        (R, 1, (t(0), 2), False),  # already 差评: its follow-up exists
        (R, 5, (t(0), 1), False),
        (H, 1, None, False),  # history only: the level in effect did not change
    ],
)
def test_which_decisions_open_a_followup(
    action: Action, key: int, replaced: tuple[datetime, int] | None, expected: bool
) -> None:
    from central.ratings.binding import Decision

    decision = Decision(Press(0, 1, "k", key, t(1)), action, 1, False, replaced=replaced)
    assert turns_bad(decision, RULES) is expected
