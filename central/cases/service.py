"""Case use cases shared by the API and the CLI: validate raw events, then ingest them.

What other domains do once events are stored (ratings open their prompts, 一事一评) comes in as
`listeners`, which the app factory builds (`app.state.case_event_listeners`) and the API passes:
those domains sit above cases, so cases imports none of them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from central.cases.ingest import ingest_batch
from central.cases.schemas import BatchResult, CaseEventIn, EventOutcome, EventResult
from central.core.actor import Actor
from central.registry.jurisdiction import Jurisdiction
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

_EVENT = TypeAdapter(CaseEventIn)
L = TypeVar("L")


_HEARS_REPEATS = "hears_repeats"


class StoredEventsListener(Protocol):
    """Called after a batch's events are committed, in a transaction of its own; must not commit."""

    def __call__(
        self,
        session: Session,
        *,
        events: Sequence[CaseEventIn],
        now: datetime,
        default_profile_key: str,
        actor: Actor,
    ) -> object: ...


def hears_repeats(listener: L) -> L:
    """Mark an idempotent listener to be told of re-sent events as well as new ones: a sender re-sends
    when it got no answer, and the first attempt may have committed its events but not reached its
    listeners (central killed between the two transactions): the hall screens' publication must
    still happen. Prompts are not idempotent and hear new events only."""
    setattr(listener, _HEARS_REPEATS, True)
    return listener


def describe_validation(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(event)'}: {err['msg']}" for err in exc.errors()[:10]
    )


def _raw_ids(raw: Any) -> tuple[str, str]:
    if isinstance(raw, dict):
        return str(raw.get("event_id", ""))[:100], str(raw.get("case_no", ""))[:64]
    return "", ""


def submit_raw_events(
    session: Session,
    *,
    raw_events: Sequence[Any],
    calendar: WorkCalendar,
    default_profile_key: str,
    now: datetime,
    source: str,
    actor: Actor,
    within: Jurisdiction | None = None,
    listeners: Sequence[StoredEventsListener] = (),
) -> BatchResult:
    """Validate each raw event on its own (so every bad one is named), then ingest all or nothing;
    then tell `listeners` of the events stored."""
    parsed: list[CaseEventIn] = []
    invalid: dict[int, str] = {}
    for index, raw in enumerate(raw_events):
        try:
            parsed.append(_EVENT.validate_python(raw))
        except ValidationError as exc:
            invalid[index] = describe_validation(exc)
    if invalid:
        results = []
        for index, raw in enumerate(raw_events):
            event_id, case_no = _raw_ids(raw)
            if index in invalid:
                results.append(
                    EventResult(
                        index=index,
                        event_id=event_id,
                        case_no=case_no,
                        outcome=EventOutcome.INVALID,
                        detail=invalid[index],
                    )
                )
            else:
                results.append(
                    EventResult(
                        index=index,
                        event_id=event_id,
                        case_no=case_no,
                        outcome=EventOutcome.NOT_APPLIED,
                        detail="the batch was rejected as a whole; nothing was written",
                    )
                )
        return BatchResult(accepted=False, stored=0, duplicates=0, rejected=len(invalid), results=results)
    result = ingest_batch(
        session,
        events=parsed,
        calendar=calendar,
        default_profile_key=default_profile_key,
        now=now,
        source=source,
        actor=actor,
        within=within,
    )
    if result.accepted and listeners:
        stored = [parsed[r.index] for r in result.results if r.outcome is EventOutcome.STORED]
        repeated = [parsed[r.index] for r in result.results if r.outcome is EventOutcome.DUPLICATE]
        for listener in listeners:
            told = stored + repeated if getattr(listener, _HEARS_REPEATS, False) else stored
            if not told:
                continue
            _tell(
                listener,
                session,
                events=told,
                now=now,
                default_profile_key=default_profile_key,
                actor=actor,
            )
    return result


def _tell(
    listener: StoredEventsListener,
    session: Session,
    *,
    events: list[CaseEventIn],
    now: datetime,
    default_profile_key: str,
    actor: Actor,
) -> None:
    """One listener in a transaction of its own after the events are committed: a failure here loses
    what it would have written (rating prompts), never events."""
    try:
        listener(session, events=events, now=now, default_profile_key=default_profile_key, actor=actor)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        logger.exception(
            "%s failed for %d stored events", getattr(listener, "__name__", listener), len(events)
        )


def batch_status_code(result: BatchResult) -> int:
    """200 when accepted; 422 when any event is invalid; 409 when the rest is a conflict."""
    if result.accepted:
        return 200
    if any(r.outcome is EventOutcome.INVALID for r in result.results):
        return 422
    return 409
