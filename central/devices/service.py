"""Observation batches from devices: dispatch by kind, idempotent, one transaction per batch.

Each `kind` has a handler, in the table the app factory builds (`observation_handlers`, from the
keypad handlers of `central.ratings` and the camera handlers of `central.video`: the domains above
devices plug in, devices imports none of them); a handler gets the batch's new items of its kind, writes
them in the caller's transaction and answers each id with stored, duplicate or rejected. Handlers
own their idempotency: each checks the ids it already holds for the device in one query per batch
and relies on its table's unique constraint for the rest. When a concurrent request wins the race
for such a key (two uploads of the same outbox rows at once), the insert fails with an
IntegrityError; the whole batch is rolled back and decided again, and the second pass sees the
winner's rows as duplicates — no 500, nothing stored twice.

Audit: one entry per batch that stored something (actor = the device), naming the counts per kind,
not one per item. Presses and health reports are derived, high-volume device data whose own rows
(with device, observation id and arrival time, never updated) are the record; an audit entry each
would double every write of a drained outbox and swamp the chain that exists for people's changes.
A batch of nothing but duplicates and rejections writes nothing, so it leaves no entry.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.devices.device_kinds import ALL_KINDS, check_kinds
from central.devices.keys import DevicePrincipal
from central.profiles.assignment import profile_for_hall
from common.contract import ObservationAnswer, ObservationResult, Outcome
from common.profiles.schema import RuleProfile
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

ATTEMPTS = 3


class ObservationConflict(RuntimeError):
    """Concurrent writers kept colliding; nothing was written and the batch can be sent again."""


@dataclass(frozen=True)
class ObservationContext:
    session: Session
    device: DevicePrincipal
    now: datetime
    calendar: WorkCalendar
    profile: RuleProfile  # the device's hall's profile


@dataclass(frozen=True)
class ItemOutcome:
    outcome: Outcome
    detail: str | None = None


# A handler gets the new items of its kind (in the order sent) and answers each id.
Handler = Callable[[ObservationContext, Sequence[Any]], dict[str, ItemOutcome]]


def observation_handlers(*groups: Mapping[str, Handler]) -> dict[str, Handler]:
    """The dispatch table: every observation kind handled, and by one handler only (checked when the
    app is built, not when the first batch of a forgotten kind arrives)."""
    table: dict[str, Handler] = {}
    for group in groups:
        twice = table.keys() & group.keys()
        if twice:
            raise ValueError(f"observation kinds with two handlers: {sorted(twice)}")
        table.update(group)
    if table.keys() != ALL_KINDS:
        raise ValueError(
            f"observation handlers must cover {sorted(ALL_KINDS)}: missing {sorted(ALL_KINDS - table.keys())},"
            f" unknown {sorted(table.keys() - ALL_KINDS)}"
        )
    return table


def ingest_observations(
    session: Session,
    *,
    device: DevicePrincipal,
    observations: Sequence[Any],
    now: datetime,
    calendar: WorkCalendar,
    default_profile_key: str,
    handlers: Mapping[str, Handler],
) -> ObservationAnswer:
    """Store a batch all or nothing and commit it; every item answered in the order sent.

    KindNotAllowed (nothing stored) when an item is of a kind the device's kind may not post."""
    check_kinds(device.kind, observations)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            profile = profile_for_hall(session, hall_id=device.hall_id, default_key=default_profile_key)
            ctx = ObservationContext(session, device, now, calendar, profile)
            answer = _dispatch(ctx, observations, handlers)
            _audit(ctx, observations, answer)
            session.commit()
            return answer
        except IntegrityError as exc:
            session.rollback()
            logger.warning(
                "device %s: concurrent write (attempt %d): %s", device.device_code, attempt, exc.orig
            )
    raise ObservationConflict("other uploads kept writing the same rows; nothing was written")


def _dispatch(
    ctx: ObservationContext, observations: Sequence[Any], handlers: Mapping[str, Handler]
) -> ObservationAnswer:
    outcomes: dict[str, ItemOutcome] = {}
    by_kind: dict[str, list[Any]] = defaultdict(list)
    first_of: dict[str, int] = {}
    for index, item in enumerate(observations):
        first_of.setdefault(item.id, index)
        if first_of[item.id] == index:
            by_kind[item.kind].append(item)
    for kind, items in by_kind.items():
        handler = handlers.get(kind)
        if handler is None:
            outcomes.update((i.id, ItemOutcome("rejected", f"no handler for kind {kind}")) for i in items)
        else:
            outcomes.update(handler(ctx, items))
    results = []
    for index, item in enumerate(observations):
        if first_of[item.id] != index:
            results.append(
                ObservationResult(id=item.id, outcome="duplicate", detail="repeated in this batch")
            )
        else:
            found = outcomes[item.id]
            results.append(ObservationResult(id=item.id, outcome=found.outcome, detail=found.detail))
    counts = Counter(r.outcome for r in results)
    return ObservationAnswer(
        results=results, stored=counts["stored"], duplicates=counts["duplicate"], rejected=counts["rejected"]
    )


def _audit(ctx: ObservationContext, observations: Sequence[Any], answer: ObservationAnswer) -> None:
    if not answer.stored:
        return
    kinds = Counter(
        item.kind for item, r in zip(observations, answer.results, strict=True) if r.outcome == "stored"
    )
    record(
        ctx.session,
        actor=ctx.device.actor,
        action="device.observations.stored",
        target_type="device",
        target_id=ctx.device.device_code,
        after={
            "stored": answer.stored,
            "duplicates": answer.duplicates,
            "rejected": answer.rejected,
            "kinds": dict(sorted(kinds.items())),
        },
        at=ctx.now,
    )
