"""Ingest batches of case events: idempotent, all-or-nothing, every event answered.

The same `event_id` with the same content is stored once; with other content it is a conflict.
A batch is checked completely before anything is written, so a rejected batch writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.audit.chain import Change, record_many
from central.cases.lifecycle import CaseState, EventFact, TransitionError, replay
from central.cases.models import Case, CaseEvent
from central.cases.projection import apply_projection, event_voids, fact_of, live_events, policy_of
from central.cases.query_password import new_query_password, password_digest
from central.cases.references import Refs, chunks, load_refs, reference_problem
from central.cases.schemas import BatchResult, CaseEventIn, EventOutcome, EventResult
from central.core.actor import Actor
from central.core.clock import to_utc
from central.profiles.assignment import hall_profile_keys
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Hall
from common.profiles.loader import get_profile
from common.profiles.schema import RuleProfile
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)


class ConcurrentWriteError(RuntimeError):
    """Another writer stored the same case or event at the same moment; retrying is safe."""


def content_hash(event: CaseEventIn) -> str:
    payload = event.model_dump(mode="json")
    payload["at"] = to_utc(event.at).isoformat()
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class _Batch:
    """One batch under inspection: the events, their content hashes and the answer for each."""

    events: Sequence[CaseEventIn]
    hashes: list[str]
    refs: Refs
    profiles: dict[int, str]
    default_key: str
    results: list[EventResult | None]
    # The replayed state of each case whose merged history passed the check, kept for the write.
    states: dict[str, CaseState] = field(default_factory=dict)
    # Events voided by an approval (SC-18): kept in the log, skipped by the replay.
    voided: dict[int, int] = field(default_factory=dict)
    within: Jurisdiction | None = None  # the caller's; what lies outside is answered as missing
    # Indexes whose event_id is stored on a case outside `within`: checked as new events, and refused
    # as "in use" only where a new one would have been stored (nothing more is said about them).
    taken: dict[int, str] = field(default_factory=dict)

    def visible(self, case: Case | None) -> Case | None:
        """The case, or None where it lies outside the caller's jurisdiction (read as missing)."""
        if case is None or self.within is None:
            return case
        return (
            case if self.within.covers_case(hall_id=case.hall_id, department_id=case.department_id) else None
        )

    def mark(
        self,
        index: int,
        outcome: EventOutcome,
        detail: str | None = None,
        *,
        query_password: str | None = None,
    ) -> None:
        event = self.events[index]
        self.results[index] = EventResult(
            index=index,
            event_id=event.event_id,
            case_no=event.case_no,
            outcome=outcome,
            detail=detail,
            query_password=query_password,
        )

    def undecided(self) -> list[int]:
        return [i for i, r in enumerate(self.results) if r is None]

    def rejected(self) -> bool:
        return any(
            r is not None and r.outcome in (EventOutcome.INVALID, EventOutcome.CONFLICT) for r in self.results
        )

    def profile_of(self, hall: Hall) -> RuleProfile:
        return get_profile(self.profiles.get(hall.id, self.default_key))


def ingest_batch(
    session: Session,
    *,
    events: Sequence[CaseEventIn],
    calendar: WorkCalendar,
    default_profile_key: str,
    now: datetime,
    source: str,
    actor: Actor,
    within: Jurisdiction | None = None,
) -> BatchResult:
    """Check the whole batch, then write it in one transaction (the caller's session is committed here).

    Each case the batch touches gets one audit entry, committed with the events.
    """
    batch = _Batch(
        events=events,
        hashes=[content_hash(e) for e in events],
        refs=load_refs(session, events, within),
        profiles=hall_profile_keys(session, default_key=default_profile_key),
        default_key=default_profile_key,
        results=[None] * len(events),
        within=within,
    )
    for index, event in enumerate(events):
        problem = reference_problem(event, batch.refs, calendar, now)
        if problem:
            batch.mark(index, EventOutcome.INVALID, problem)
    _mark_duplicates(session, batch)
    by_case: dict[str, list[int]] = defaultdict(list)
    for index in batch.undecided():
        by_case[events[index].case_no].append(index)
    cases = _load_cases(session, list(by_case))
    batch.voided = event_voids(session, case_ids=[c.id for c in cases.values()])
    for case_no, indexes in by_case.items():
        _check_case(batch, cases.get(case_no), indexes)
    _mark_taken(batch, cases)

    if batch.rejected():
        for index in batch.undecided():
            batch.mark(
                index, EventOutcome.NOT_APPLIED, "the batch was rejected as a whole; nothing was written"
            )
        session.rollback()
        return _summary(batch.results, accepted=False)
    try:
        changes: list[Change] = []
        for case_no, indexes in by_case.items():
            before = cases.get(case_no)
            before_status = {"status": before.status} if before else None
            password = new_query_password() if before is None else None
            case = _write_case(session, batch, before, indexes, calendar=calendar, now=now, source=source)
            if password is not None:
                case.query_password_digest = password_digest(case.case_no, password)
            for position, index in enumerate(indexes):
                # The password goes back once, on the event that created the case, for its receipt.
                batch.mark(index, EventOutcome.STORED, query_password=password if position == 0 else None)
            stored_events = [{"event_id": events[i].event_id, "type": events[i].type.value} for i in indexes]
            changes.append(
                Change(
                    action="case.events.stored",
                    target_type="case",
                    target_id=case_no,
                    before=before_status,
                    after={"status": case.status, "events": stored_events},
                )
            )
        record_many(session, actor=actor, at=now, changes=changes)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ConcurrentWriteError(
            "another writer stored one of these cases or events at the same time"
        ) from exc
    stored = sum(len(v) for v in by_case.values())
    logger.info("batch from %s: %d stored, %d duplicates", source, stored, len(events) - stored)
    return _summary(batch.results, accepted=True)


def _mark_duplicates(session: Session, batch: _Batch) -> None:
    stored: dict[str, str] = {}
    foreign: set[str] = set()
    for ids in chunks(sorted({e.event_id for e in batch.events})):
        rows = session.execute(
            select(CaseEvent.event_id, CaseEvent.content_hash, Case.hall_id, Case.department_id)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.event_id.in_(ids))
        )
        for event_id, digest, hall_id, department_id in rows:
            if batch.within is None or batch.within.covers_case(hall_id=hall_id, department_id=department_id):
                stored[event_id] = digest
            else:
                foreign.add(event_id)
    first_seen: dict[str, int] = {}
    for index in batch.undecided():
        event_id = batch.events[index].event_id
        if event_id in foreign:
            batch.taken[index] = f"event_id {event_id} is already in use"
            continue
        earlier = stored.get(event_id)
        if earlier is None and event_id in first_seen:
            earlier = batch.hashes[first_seen[event_id]]
        if earlier is None:
            first_seen[event_id] = index
        elif earlier == batch.hashes[index]:
            batch.mark(index, EventOutcome.DUPLICATE, "already stored with the same content")
        else:
            batch.mark(
                index, EventOutcome.CONFLICT, f"event_id {event_id} was already stored with different content"
            )


def _load_cases(session: Session, case_nos: list[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    for numbers in chunks(case_nos):
        query = select(Case).where(Case.case_no.in_(numbers))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()  # serialise concurrent writers of the same case
        found.update((c.case_no, c) for c in session.scalars(query))
    return found


def _mark_taken(batch: _Batch, cases: dict[str, Case]) -> None:
    """Events that would be stored but for an event_id or case_no held outside the caller's
    jurisdiction: a conflict that says the identifier is in use, and nothing about what holds it."""
    for index in batch.undecided():
        event = batch.events[index]
        if index in batch.taken:
            batch.mark(index, EventOutcome.CONFLICT, batch.taken[index])
        elif event.case_no in cases and batch.visible(cases[event.case_no]) is None:
            batch.mark(index, EventOutcome.CONFLICT, f"case_no {event.case_no} is already in use")


def _check_case(batch: _Batch, found: Case | None, indexes: list[int]) -> None:
    case = batch.visible(found)  # another jurisdiction's case is checked as if it did not exist
    new_events = [batch.events[i] for i in indexes]
    first = new_events[0]
    hall = batch.refs.halls[first.hall_code]
    item = batch.refs.items[(hall.id, first.item_code)]
    for index, event in zip(indexes, new_events, strict=True):
        if case is not None and (case.item_id != item.id or case.hall_id != hall.id):
            batch.mark(
                index,
                EventOutcome.CONFLICT,
                f"case {event.case_no} belongs to another item or hall than {event.item_code} at {event.hall_code}",
            )
            return
        if (event.item_code, event.hall_code) != (first.item_code, first.hall_code):
            batch.mark(
                index, EventOutcome.CONFLICT, f"events for case {event.case_no} disagree on item or hall"
            )
            return
    stored = [fact_of(e) for e in live_events(case, voided=batch.voided)] if case else []
    incoming = [
        EventFact(type=e.type, at=to_utc(e.at), days=e.days, reason=e.reason, event_id=e.event_id)
        for e in new_events
    ]
    ordered = sorted(stored + incoming, key=lambda f: f.at)  # stable: stored events first on ties
    try:
        batch.states[first.case_no] = replay(ordered, policy=policy_of(batch.profile_of(hall)))
    except TransitionError as failure:
        new_ids = {e.event_id: i for i, e in zip(indexes, new_events, strict=True)}
        for index in indexes:
            if new_ids.get(failure.event_id) == index:
                batch.mark(index, EventOutcome.CONFLICT, failure.reason)
            elif failure.event_id not in new_ids:
                batch.mark(
                    index,
                    EventOutcome.CONFLICT,
                    f"would make stored event {failure.event_id} impossible: {failure.reason}",
                )


def _write_case(
    session: Session,
    batch: _Batch,
    case: Case | None,
    indexes: list[int],
    *,
    calendar: WorkCalendar,
    now: datetime,
    source: str,
) -> Case:
    first = batch.events[indexes[0]]
    hall = batch.refs.halls[first.hall_code]
    item = batch.refs.items[(hall.id, first.item_code)]
    if case is None:
        case = Case(
            case_no=first.case_no,
            item_id=item.id,
            hall_id=hall.id,
            department_id=item.department_id,
            promised_limit_days=item.promised_limit_days or item.legal_limit_days,
            legal_limit_days=item.legal_limit_days,
            status="received",
            last_event_at=to_utc(first.at),
            event_count=0,
            extension_days=0,
            calendar_missing=False,
        )
        session.add(case)
        case.events = []
    for index in indexes:
        event = batch.events[index]
        window = batch.refs.windows.get((hall.id, event.window_code)) if event.window_code else None
        staff = batch.refs.staff.get((hall.id, event.staff_code)) if event.staff_code else None
        case.events.append(
            CaseEvent(
                event_id=event.event_id,
                type=event.type.value,
                at=to_utc(event.at),
                window_id=window.id if window else None,
                staff_id=staff.id if staff else None,
                applicant_name=event.applicant_name,
                days=event.days,
                reason=event.reason,
                content_hash=batch.hashes[index],
                source=source,
                recorded_at=now,
            )
        )
        case.window_id = case.window_id or (window.id if window else None)
        case.staff_id = staff.id if staff else case.staff_id
        case.applicant_name = case.applicant_name or event.applicant_name
    case.event_count = len(case.events)
    case.last_event_at = max(e.at for e in case.events)
    apply_projection(case, batch.states[first.case_no], calendar=calendar)
    session.flush()
    return case


def _summary(results: list[EventResult | None], *, accepted: bool) -> BatchResult:
    final = [r for r in results if r is not None]
    return BatchResult(
        accepted=accepted,
        stored=sum(r.outcome is EventOutcome.STORED for r in final),
        duplicates=sum(r.outcome is EventOutcome.DUPLICATE for r in final),
        rejected=sum(r.outcome in (EventOutcome.INVALID, EventOutcome.CONFLICT) for r in final),
        results=final,
    )
