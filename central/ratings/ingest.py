"""Store keypad presses reported by an edge agent and bind them to cases (the I/O around
`central.ratings.binding`, which holds the rules and documents the rows written here).

One batch costs a fixed number of queries whatever its size (duplicates, windows, prompts, their
ratings and history, recent presses for bursts, staff, keypad devices), then bulk inserts, so an
outbox drained after an outage is taken in at thousands of presses a second. Nothing here commits:
the caller's transaction holds the whole batch.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import String, any_, bindparam, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from central.core.bulk import draw_ids, insert_rows
from central.core.clock import shanghai_date, to_utc
from central.devices.keys import DevicePrincipal
from central.ratings.binding import (
    Action,
    Decision,
    Press,
    bind_presses,
    turns_bad,
)
from central.ratings.followups import open_followups
from central.ratings.ingest_state import Loaded, chunks, load_state
from central.ratings.models import KeypadPress, Rating, RatingRevision
from central.registry.models import ServiceWindow
from common.profiles.schema import RatingRules, RuleProfile
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

__all__ = [
    "PressResult",
    "ReportedPress",
    "ingest_presses",
    "notify_bad_rating",
    "notify_bad_ratings",
]

FUTURE_TOLERANCE = timedelta(minutes=10)  # edge clocks drift; further ahead is a broken clock
CHANNEL = "window_device"


@dataclass(frozen=True)
class ReportedPress:
    """A keypad press as the edge agent reported it (see keypads.md: keypad_press observations)."""

    observation_id: str
    window: str  # window code in the device's hall
    keypad: str
    seq: int
    key: int
    uptime_ms: int
    at: datetime
    citizen_present: bool | None = None  # the window camera's verdict; None: no camera judged


@dataclass(frozen=True)
class PressResult:
    outcome: Literal["stored", "duplicate", "rejected"]
    detail: str | None = None


def notify_bad_rating(
    session: Session, *, rating: Rating, profile: RuleProfile, calendar: WorkCalendar, now: datetime
) -> None:
    """Open the follow-up of a 差评 that has its id."""
    notify_bad_ratings(session, ratings=[rating], profile=profile, calendar=calendar, now=now)


def notify_bad_ratings(
    session: Session,
    *,
    ratings: Sequence[Rating],
    profile: RuleProfile,
    calendar: WorkCalendar,
    now: datetime,
) -> None:
    """Open the follow-ups of all these 差评 at once (they have their ids), in the caller's transaction."""
    if ratings:
        open_followups(session, ratings=ratings, profile=profile, calendar=calendar, now=now)


def ingest_presses(
    session: Session,
    *,
    device: DevicePrincipal,
    presses: Sequence[ReportedPress],
    profile: RuleProfile,
    calendar: WorkCalendar,
    now: datetime,
) -> dict[str, PressResult]:
    """Store and bind a batch of presses of one edge agent; the answer for each observation id.

    A press already stored for this device is a duplicate; a press naming no window of the device's
    hall, or pressed in the future, is rejected (it can never be stored). Does not commit.
    """
    results: dict[str, PressResult] = {}
    windows = _windows(session, hall_id=device.hall_id, codes={p.window for p in presses})
    existing = _existing_ids(session, device_id=device.device_id, ids=[p.observation_id for p in presses])
    accepted: list[tuple[ReportedPress, ServiceWindow]] = []
    for press in presses:
        window = windows.get(press.window)
        if press.observation_id in existing or press.observation_id in results:
            results[press.observation_id] = PressResult("duplicate", "already stored")
        elif window is None:
            detail = f"no window {press.window} in hall {device.hall_code}"
            results[press.observation_id] = PressResult("rejected", detail)
        elif to_utc(press.at) > now + FUTURE_TOLERANCE:
            detail = f"pressed at {press.at.isoformat()}, in the future (check the edge clock)"
            results[press.observation_id] = PressResult("rejected", detail)
        else:
            results[press.observation_id] = PressResult("stored")
            accepted.append((press, window))
    if accepted:
        outcomes = _store(
            session, device=device, accepted=accepted, profile=profile, calendar=calendar, now=now
        )
        for observation_id, outcome in outcomes.items():
            results[observation_id] = PressResult("stored", outcome)
    return results


def _windows(session: Session, *, hall_id: int, codes: set[str]) -> dict[str, ServiceWindow]:
    found: dict[str, ServiceWindow] = {}
    for chunk in chunks(sorted(codes)):
        query = select(ServiceWindow).where(ServiceWindow.hall_id == hall_id, ServiceWindow.code.in_(chunk))
        found.update((w.code, w) for w in session.scalars(query))
    return found


def _existing_ids(session: Session, *, device_id: int, ids: Sequence[str]) -> set[str]:
    unique = sorted(set(ids))
    column = KeypadPress.observation_id
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter: a short statement the driver prepares once, not 1,000 placeholders
        # parsed afresh for every batch.
        matches = [column == any_(bindparam("ids", unique, type_=ARRAY(String)))]
    else:
        matches = [column.in_(chunk) for chunk in chunks(unique)]
    found: set[str] = set()
    for match in matches:
        found.update(session.scalars(select(column).where(KeypadPress.device_id == device_id, match)))
    return found


@dataclass
class _Made:
    """A rating a press makes or corrects: a new one's column values (inserted in bulk, the id comes
    after), or a stored one with the columns that change."""

    values: dict[str, Any]
    stored: Rating | None = None
    rating_id: int | None = None


def _store(
    session: Session,
    *,
    device: DevicePrincipal,
    accepted: Sequence[tuple[ReportedPress, ServiceWindow]],
    profile: RuleProfile,
    calendar: WorkCalendar,
    now: datetime,
) -> dict[str, str]:
    """Decide and write the accepted presses; the KeypadPress outcome of each observation id."""
    presses = [
        Press(
            ref=i,
            window_id=w.id,
            keypad=p.keypad,
            key=p.key,
            at=to_utc(p.at),
            citizen_present=p.citizen_present,
        )
        for i, (p, w) in enumerate(accepted)
    ]
    loaded = load_state(session, device=device, presses=presses, profile=profile)
    decisions = bind_presses(presses, loaded.state)
    windows = {w.id: w for _, w in accepted}
    by_prompt = {pid: _Made({}, stored=r, rating_id=r.id) for pid, r in loaded.ratings.items()}
    made: dict[int, _Made] = {}  # press ref -> the rating it made or corrected
    history: list[tuple[_Made, int, datetime, datetime]] = []  # (rating, level, rated_at, replaced_at)
    for decision in decisions:
        target = _apply(decision, by_prompt=by_prompt, loaded=loaded, windows=windows, device=device, now=now)
        if decision.burst or decision.press.unattended:
            _flag(target, decision, profile.ratings)
        _record_history(decision, target, history)
        made[decision.press.ref] = target
    _write_ratings(session, list(made.values()))
    if history:
        session.execute(
            insert(RatingRevision),
            [
                {"rating_id": m.rating_id, "level": lv, "rated_at": at, "replaced_at": to}
                for m, lv, at, to in history
            ],
        )
    insert_rows(session, KeypadPress, [_press_row(d, accepted, made, device, now) for d in decisions])
    bad = {made[d.press.ref].rating_id for d in decisions if turns_bad(d, profile.ratings)}
    if bad:
        for ids in chunks(sorted(i for i in bad if i is not None)):
            ratings = session.scalars(select(Rating).where(Rating.id.in_(ids))).all()
            notify_bad_ratings(session, ratings=ratings, profile=profile, calendar=calendar, now=now)
    counts = Counter(d.outcome for d in decisions)
    logger.info("device %s: %d presses stored (%s)", device.device_code, len(decisions), dict(counts))
    return {accepted[d.press.ref][0].observation_id: d.outcome for d in decisions}


def _flag(target: _Made, decision: Decision, rules: RatingRules) -> None:
    """Mark the rating a burst or unattended press made or corrected (rules 5, 6); it weighs the
    least its flags allow, whichever press set them."""
    values, stored = target.values, target.stored
    if decision.burst:
        values["burst"] = True
    if decision.press.unattended:
        values["unattended"] = True
    burst = values.get("burst", stored.burst if stored is not None else False)
    unattended = values.get("unattended", stored.unattended if stored is not None else False)
    weight = 1.0
    if burst:
        weight = min(weight, rules.burst_weight)
    if unattended:
        weight = min(weight, rules.unattended_weight)
    values["weight"] = weight


def _write_ratings(session: Session, made: Sequence[_Made]) -> None:
    """Apply the changes to stored ratings, and insert the new ones in one statement (ids back in order)."""
    new: dict[int, _Made] = {}
    for target in made:
        if target.stored is not None:
            for column, value in target.values.items():
                setattr(target.stored, column, value)
        else:
            new[id(target)] = target
    session.flush()
    if new:
        targets = list(new.values())
        for target, rating_id in zip(
            targets, _insert_ratings(session, [t.values for t in targets]), strict=True
        ):
            target.rating_id = rating_id


def _insert_ratings(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert new ratings in one statement; their ids in the order given (see `central.core.bulk`)."""
    ids = draw_ids(session, Rating, len(rows))
    insert_rows(session, Rating, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


def _press_row(
    decision: Decision,
    accepted: Sequence[tuple[ReportedPress, ServiceWindow]],
    made: dict[int, _Made],
    device: DevicePrincipal,
    now: datetime,
) -> dict[str, Any]:
    reported, press = accepted[decision.press.ref][0], decision.press
    return {
        "device_id": device.device_id,
        "observation_id": reported.observation_id,
        "window_id": press.window_id,
        "keypad": press.keypad,
        "keypad_seq": reported.seq,
        "key": press.key,
        "uptime_ms": reported.uptime_ms,
        "pressed_at": press.at,
        "received_at": now,
        "rating_id": made[press.ref].rating_id,
        "outcome": decision.outcome,
        "citizen_present": press.citizen_present,
    }


def _apply(
    decision: Decision,
    *,
    by_prompt: dict[int, _Made],
    loaded: Loaded,
    windows: dict[int, ServiceWindow],
    device: DevicePrincipal,
    now: datetime,
) -> _Made:
    """The rating the press makes (BIND, UNBOUND) or corrects (REPLACE, HISTORY), changed accordingly."""
    press = decision.press
    if decision.action in (Action.REPLACE, Action.HISTORY):
        assert decision.prompt_id is not None
        target = by_prompt[decision.prompt_id]
        if decision.action is Action.REPLACE:
            target.values["level"] = press.key
        elif decision.moves_first:
            target.values.update(rated_at=press.at, rated_on=shanghai_date(press.at))
        target.values["updated_at"] = now
        return target
    target = _Made(
        _new_rating(decision, loaded=loaded, window=windows[press.window_id], device=device, now=now)
    )
    if decision.prompt_id is not None:
        by_prompt[decision.prompt_id] = target
    return target


def _record_history(
    decision: Decision, target: _Made, history: list[tuple[_Made, int, datetime, datetime]]
) -> None:
    """The RatingRevision a correction leaves: the replaced level, or the late press's own level."""
    if decision.action is Action.REPLACE and decision.replaced is not None:
        replaced_at, level = decision.replaced
        history.append((target, level, replaced_at, decision.press.at))
    elif decision.action is Action.HISTORY and decision.superseded_at is not None:
        history.append((target, decision.press.key, decision.press.at, decision.superseded_at))


def _new_rating(
    decision: Decision, *, loaded: Loaded, window: ServiceWindow, device: DevicePrincipal, now: datetime
) -> dict[str, Any]:
    """The columns of a new rating (see the row meanings in `central.ratings.binding`)."""
    press = decision.press
    values: dict[str, Any] = {
        "channel": CHANNEL,
        "level": press.key,
        "text": None,
        "case_id": None,
        "prompt_id": None,
        "hall_id": device.hall_id,
        "department_id": window.department_id,
        "window_id": window.id,
        "staff_id": loaded.sole_staff.get(window.id),
        "device_id": loaded.keypad_devices.get(press.keypad, device.device_id),
        "rated_at": press.at,
        "rated_on": shanghai_date(press.at),
        "weight": 1.0,
        "burst": False,
        "unattended": False,
        "excluded": False,
        "excluded_by_approval_id": None,
        "updated_at": now,
    }
    if decision.action is Action.BIND and decision.prompt_id is not None:
        prompt, department_id = loaded.prompts[decision.prompt_id]
        values.update(case_id=prompt.case_id, prompt_id=prompt.id, staff_id=prompt.staff_id)
        values["department_id"] = department_id
    return values
