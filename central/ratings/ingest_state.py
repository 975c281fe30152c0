"""The stored state a batch of keypad presses is decided against (`central.ratings.binding`): the
prompts of the batch's windows, their ratings and history, recent presses for bursts, the staff of
each window and the registered keypads. A fixed number of queries per batch, whatever its size."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from central.cases.models import Case
from central.core.clock import to_utc
from central.devices.keys import DevicePrincipal
from central.ratings.binding import BindingState, Press, Prompt, chain_of
from central.ratings.models import KeypadPress, Rating, RatingPrompt, RatingRevision
from central.registry.models import Device, Staff
from common.profiles.schema import RuleProfile

logger = logging.getLogger(__name__)

PROMPT_LOOKBACK = timedelta(hours=1)  # the profile schema caps prompt_valid_seconds at 3600
CHUNK = 900  # stay under every backend's bound-parameter limit
T = TypeVar("T")


def chunks(values: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


@dataclass
class Loaded:
    """The stored state a batch is decided against."""

    state: BindingState
    prompts: dict[int, tuple[RatingPrompt, int]]  # prompt id -> (prompt, case department)
    ratings: dict[int, Rating]  # by prompt id
    sole_staff: dict[int, int]  # window id -> its one active staff member
    keypad_devices: dict[str, int]  # keypad code -> registry device id


def load_state(
    session: Session, *, device: DevicePrincipal, presses: Sequence[Press], profile: RuleProfile
) -> Loaded:
    window_ids = sorted({p.window_id for p in presses})
    first, last = min(p.at for p in presses), max(p.at for p in presses)
    rows = session.execute(
        select(RatingPrompt, Case.department_id)
        .join(Case, Case.id == RatingPrompt.case_id)
        .where(
            RatingPrompt.window_id.in_(window_ids),
            RatingPrompt.opened_at >= first - PROMPT_LOOKBACK,
            RatingPrompt.opened_at <= last,
        )
    ).all()
    prompts = {prompt.id: (prompt, department_id) for prompt, department_id in rows}
    ratings, rated_cases = _ratings_of(session, [p for p, _ in prompts.values()])
    revisions = _revisions_of(session, [r.id for r in ratings.values()])
    chains = {
        prompt_id: chain_of(level=r.level, rated_at=r.rated_at, revisions=revisions.get(r.id, []))
        for prompt_id, r in ratings.items()
    }
    state = BindingState(
        rules=profile.ratings,
        prompts=[
            Prompt(p.id, p.window_id, p.case_id, to_utc(p.opened_at), to_utc(p.expires_at))
            for p, _ in prompts.values()
        ],
        chains=chains,
        rated_cases=rated_cases,
        recent=_recent_presses(session, presses=presses, window_ids=window_ids, profile=profile),
    )
    return Loaded(
        state=state,
        prompts=prompts,
        ratings=ratings,
        sole_staff=_sole_staff(session, window_ids),
        keypad_devices=_keypad_devices(session, device=device, keypads={p.keypad for p in presses}),
    )


def _ratings_of(session: Session, prompts: Sequence[RatingPrompt]) -> tuple[dict[int, Rating], set[int]]:
    if not prompts:
        return {}, set()
    found = session.scalars(
        select(Rating).where(
            or_(
                Rating.prompt_id.in_([p.id for p in prompts]),
                Rating.case_id.in_(sorted({p.case_id for p in prompts})),
            )
        )
    ).all()
    by_prompt = {r.prompt_id: r for r in found if r.prompt_id is not None}
    return by_prompt, {r.case_id for r in found if r.case_id is not None}


def _revisions_of(
    session: Session, rating_ids: Sequence[int]
) -> dict[int, list[tuple[int, datetime, datetime]]]:
    found: dict[int, list[tuple[int, datetime, datetime]]] = defaultdict(list)
    if rating_ids:
        query = select(
            RatingRevision.rating_id,
            RatingRevision.level,
            RatingRevision.rated_at,
            RatingRevision.replaced_at,
        ).where(RatingRevision.rating_id.in_(rating_ids))
        for rating_id, level, rated_at, replaced_at in session.execute(query):
            found[rating_id].append((level, to_utc(rated_at), to_utc(replaced_at)))
    return found


def _recent_presses(
    session: Session, *, presses: Sequence[Press], window_ids: Sequence[int], profile: RuleProfile
) -> dict[tuple[int, str], list[datetime]]:
    span = timedelta(seconds=profile.ratings.burst_window_seconds)
    query = select(KeypadPress.window_id, KeypadPress.keypad, KeypadPress.pressed_at).where(
        KeypadPress.window_id.in_(window_ids),
        KeypadPress.pressed_at >= min(p.at for p in presses) - span,
        KeypadPress.pressed_at <= max(p.at for p in presses),
    )
    recent: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for window_id, keypad, pressed_at in session.execute(query):
        recent[(window_id, keypad)].append(to_utc(pressed_at))
    return dict(recent)


def _sole_staff(session: Session, window_ids: Sequence[int]) -> dict[int, int]:
    staff: dict[int, list[int]] = defaultdict(list)
    query = select(Staff.window_id, Staff.id).where(Staff.window_id.in_(window_ids), Staff.active.is_(True))
    for window_id, staff_id in session.execute(query):
        if window_id is not None:
            staff[window_id].append(staff_id)
    return {window_id: ids[0] for window_id, ids in staff.items() if len(ids) == 1}


def _keypad_devices(session: Session, *, device: DevicePrincipal, keypads: set[str]) -> dict[str, int]:
    query = select(Device.code, Device.id).where(
        Device.hall_id == device.hall_id, Device.kind == "keypad", Device.code.in_(sorted(keypads))
    )
    return {code: device_id for code, device_id in session.execute(query)}
