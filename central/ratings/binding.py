"""Binding keypad presses to cases (一次一评, 一事一评; RULES "Satisfaction ratings", SC-6(3), HCP).

Pure rules, no I/O: `central.ratings.ingest` loads the state this module needs, asks it to decide
every press of a batch, and writes what it decided. Thresholds come from the hall's rule profile
(`profile.ratings`: prompt_valid_seconds, correction_seconds, burst_window_seconds,
burst_min_presses, burst_weight, unattended_weight, bad_max_level).

The rules, for a press of key k at window W at press time t (the edge clock when the KEY frame
arrived, never the upload time: presses drained from an outbox after an outage bind as they would
have at the time; the presses of one batch are decided in press-time order):

1. The prompt *on display* at W at t is the newest RatingPrompt of W opened at or before t (the
   keypad shows the latest PROMPT it got, so a newer prompt replaces an older one on the screen).
2. If it is still valid (t <= expires_at), has no rating, and its case has no rating from any
   prompt or channel, the press BINDs: a new Rating for the case (one rating per case).
3. If it already has a rating and t is within correction_seconds of that rating's first press
   (rated_at), the press is a correction: REPLACE when it is the newest press of the rating (the
   level becomes k, the old level goes to history); HISTORY when it arrives late but was pressed
   before the newest one (its level goes to history only: what the citizen pressed last stands).
4. Otherwise (no prompt on display, expired, rated and past the correction time) the press is an
   UNBOUND window rating.
5. Independently, a press that is the burst_min_presses-th (or later) press on the same keypad of
   the same window within burst_window_seconds (counting presses stored earlier and earlier ones of
   the batch) is a burst press: the rating it makes or corrects gets burst=True and
   weight=burst_weight (a satisfaction-terminal patent, US20150186959A1, weights rapid repeated
   presses down). A burst is judged when a press is decided: a press arriving late does not turn
   presses stored before it into burst presses.
6. Independently, a press the window's camera judged made with nobody at the counter (the edge
   stamps each press with ``citizen_present``: a citizen seen in the window's customer region at the
   press or moments before; None where no camera judged) is *unattended*: only the clerk could have
   pressed it (RULES: a staff member must not rate themselves). The rating it makes or corrects gets
   unattended=True and weighs profile.ratings.unattended_weight (0 by default). It still binds as
   rules 1-4 say: the case keeps its one rating, flagged for review, and a 差评 still opens a follow-up.

What the stored rows mean (other modules create and read them exactly so):

- ``KeypadPress``: one press as an edge agent reported it, stored once per (device, observation id).
  ``pressed_at`` is the press time; ``received_at`` central's time of arrival; ``rating_id`` the
  rating the press made or corrected (never NULL for presses stored by the keypad endpoint);
  ``citizen_present`` the camera's verdict as the edge reported it (NULL: none);
  ``outcome`` is ``bound`` (made a bound rating), ``replaced`` (corrected a bound rating: REPLACE
  or HISTORY), ``unbound`` (made an unbound window rating) or ``burst`` (made an unbound window
  rating and was a burst press; a bound or replacing burst press keeps bound/replaced and the
  burst shows on the rating).
- ``Rating``: one satisfaction rating, 5 非常满意 … 1 非常不满意; ``level`` is the level in effect
  (the last correction). For keypads: ``channel`` "window_device"; ``device_id`` the keypad's own
  registry Device when a device of kind "keypad" with the keypad's code exists in the hall, else
  the uploading edge agent. Bound: ``case_id`` and ``prompt_id`` set (both unique: 一事一评),
  ``staff_id`` the prompt's staff member, ``department_id`` the case's department. Unbound:
  ``case_id`` and ``prompt_id`` NULL, ``staff_id`` the window's staff member when exactly one active
  staff member is assigned to the window (else NULL), ``department_id`` the window's department.
  ``rated_at`` is the time of the first press (the binding one; an earlier press arriving late
  moves it back), ``rated_on`` its Shanghai day; ``updated_at`` central's time of the last change.
  ``weight`` is 1.0, or the least of burst_weight when ``burst`` and unattended_weight when
  ``unattended`` (rule 6). Other channels (pad, web, re-ratings, …) may
  create Rating rows with ``prompt_id`` NULL; a rating with a ``case_id`` blocks binding presses to
  that case. Ratings are never deleted; ``excluded`` is set only through an approval.
- ``RatingRevision``: a level a rating had before, with ``rated_at`` = when that level was
  pressed and ``replaced_at`` = the press time of the press that superseded it. The levels of a
  rating are its revisions by ``rated_at`` followed by its current ``level``, in effect since the
  latest ``replaced_at``.

差评: every rating whose level is at or below bad_max_level when it is made, or that a correction
moves from above to at-or-below it, opens its follow-up: `central.ratings.ingest.notify_bad_ratings`
calls `central.ratings.followups.open_followups` with all of a batch's 差评 at once (a drained outbox
opens its follow-ups in a few statements), in the same transaction, after the ratings have their
ids; other writers of Rating rows call `central.ratings.ingest.notify_bad_rating` for the same.
A correction from 差评 back to a good level opens nothing: the
follow-up stays until `central.ratings.overdue` withdraws it if nobody has touched it yet.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property

from common.profiles.schema import RatingRules

logger = logging.getLogger(__name__)


class Action(StrEnum):
    BIND = "bind"
    REPLACE = "replace"
    HISTORY = "history"
    UNBOUND = "unbound"


@dataclass(frozen=True)
class Press:
    ref: int  # the caller's handle for the press (its index in the batch)
    window_id: int
    keypad: str
    key: int
    at: datetime  # aware
    citizen_present: bool | None = None  # the window camera's verdict (None: no camera judged)

    @property
    def unattended(self) -> bool:
        """Rule 6: the camera saw nobody at the counter, so nobody but the clerk could have pressed."""
        return self.citizen_present is False


@dataclass(frozen=True)
class Prompt:
    id: int
    window_id: int
    case_id: int
    opened_at: datetime
    expires_at: datetime


@dataclass
class Chain:
    """The presses of one bound rating as (press time, level), in press-time order."""

    presses: list[tuple[datetime, int]]

    @property
    def first_at(self) -> datetime:
        return self.presses[0][0]

    @property
    def last(self) -> tuple[datetime, int]:
        return self.presses[-1]


def chain_of(*, level: int, rated_at: datetime, revisions: Iterable[tuple[int, datetime, datetime]]) -> Chain:
    """The chain of a stored rating from its level, rated_at and (level, rated_at, replaced_at) revisions."""
    history = sorted(revisions, key=lambda r: r[1])
    current_at = max((r[2] for r in history), default=rated_at)
    return Chain([(at, old) for old, at, _ in history] + [(max(current_at, rated_at), level)])


@dataclass(frozen=True)
class Decision:
    press: Press
    action: Action
    prompt_id: int | None
    burst: bool
    replaced: tuple[datetime, int] | None = None  # REPLACE: (pressed at, level) it replaces
    superseded_at: datetime | None = None  # HISTORY: when the next press superseded this one
    moves_first: bool = False  # HISTORY: pressed before the binding press; rated_at moves to it

    @cached_property  # asked for three times per press in a drained batch of thousands
    def outcome(self) -> str:
        """The KeypadPress.outcome of the press."""
        if self.action is Action.BIND:
            return "bound"
        if self.action in (Action.REPLACE, Action.HISTORY):
            return "replaced"
        return "burst" if self.burst else "unbound"


@dataclass
class BindingState:
    """What the rules look at; `decide` updates it as it goes, so a batch is decided press by press."""

    rules: RatingRules
    prompts: Iterable[Prompt] = ()
    chains: dict[int, Chain] = field(default_factory=dict)  # by prompt id
    rated_cases: set[int] = field(default_factory=set)
    recent: dict[tuple[int, str], list[datetime]] = field(default_factory=dict)  # (window, keypad)
    _by_window: dict[int, list[Prompt]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for prompt in self.prompts:
            self._by_window.setdefault(prompt.window_id, []).append(prompt)
        for prompts in self._by_window.values():
            prompts.sort(key=lambda p: (p.opened_at, p.id))
        for times in self.recent.values():
            times.sort()

    def on_display(self, window_id: int, at: datetime) -> Prompt | None:
        prompts = self._by_window.get(window_id, [])
        index = bisect.bisect_right([p.opened_at for p in prompts], at)
        return prompts[index - 1] if index else None


def is_burst(state: BindingState, press: Press) -> bool:
    """Whether the press is the burst_min_presses-th or later on its keypad within the burst window;
    records the press for the presses decided after it."""
    times = state.recent.setdefault((press.window_id, press.keypad), [])
    since = press.at - timedelta(seconds=state.rules.burst_window_seconds)
    earlier = bisect.bisect_right(times, press.at) - bisect.bisect_left(times, since)
    bisect.insort(times, press.at)
    return earlier + 1 >= state.rules.burst_min_presses


def decide(state: BindingState, press: Press) -> Decision:
    """Decide one press (rules 1-5 of the module docstring) and update the state."""
    burst = is_burst(state, press)
    prompt = state.on_display(press.window_id, press.at)
    if prompt is None or press.at > prompt.expires_at:
        return Decision(press, Action.UNBOUND, None, burst)
    chain = state.chains.get(prompt.id)
    if chain is None:
        if prompt.case_id in state.rated_cases:
            return Decision(press, Action.UNBOUND, None, burst)
        state.chains[prompt.id] = Chain([(press.at, press.key)])
        state.rated_cases.add(prompt.case_id)
        return Decision(press, Action.BIND, prompt.id, burst)
    if abs(press.at - chain.first_at) > timedelta(seconds=state.rules.correction_seconds):
        return Decision(press, Action.UNBOUND, None, burst)
    last = chain.last
    if press.at >= last[0]:
        chain.presses.append((press.at, press.key))
        return Decision(press, Action.REPLACE, prompt.id, burst, replaced=last)
    superseded_at = min(at for at, _ in chain.presses if at > press.at)
    moves_first = press.at < chain.first_at
    bisect.insort(chain.presses, (press.at, press.key), key=lambda p: p[0])
    return Decision(
        press, Action.HISTORY, prompt.id, burst, superseded_at=superseded_at, moves_first=moves_first
    )


def bind_presses(presses: Sequence[Press], state: BindingState) -> list[Decision]:
    """Decide every press in press-time order (ties: batch order). Decisions come in that order."""
    return [decide(state, press) for press in sorted(presses, key=lambda p: (p.at, p.ref))]


def is_bad(level: int, rules: RatingRules) -> bool:
    """差评: 不满意 and 非常不满意 by default (profile.ratings.bad_max_level)."""
    return level <= rules.bad_max_level


def turns_bad(decision: Decision, rules: RatingRules) -> bool:
    """Whether the decision makes a 差评 that needs a follow-up (a new one, or a correction into 差评)."""
    if decision.action in (Action.BIND, Action.UNBOUND):
        return is_bad(decision.press.key, rules)
    if decision.action is Action.REPLACE and decision.replaced is not None:
        return is_bad(decision.press.key, rules) and not is_bad(decision.replaced[1], rules)
    return False
