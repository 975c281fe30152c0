"""Ingest batches of case events: idempotent, all-or-nothing, every event answered.

The same `event_id` with the same content is stored once; with other content it is a conflict.
A batch is checked completely before anything is written, so a rejected batch writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.access.jurisdiction import Jurisdiction, ScopeKind
from central.audit.chain import Change, record_many
from central.cases.lifecycle import CaseState, EventFact, TransitionError, replay
from central.cases.models import Case, CaseEvent
from central.cases.projection import apply_projection, event_voids, fact_of, live_events, policy_of
from central.cases.schemas import BatchResult, CaseEventIn, EventOutcome, EventResult
from central.core.actor import Actor
from central.core.clock import shanghai_date, to_utc
from central.profiles.assignment import hall_profile_keys
from central.registry.models import Hall, Item, ServiceWindow, Staff
from common.profiles.loader import get_profile
from common.profiles.schema import RuleProfile
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=10)
_CHUNK = 900  # stay under every backend's bound-parameter limit


class ConcurrentWriteError(RuntimeError):
    """Another writer stored the same case or event at the same moment; retrying is safe."""


def content_hash(event: CaseEventIn) -> str:
    payload = event.model_dump(mode="json")
    payload["at"] = to_utc(event.at).isoformat()
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


@dataclass
class _Refs:
    items: dict[str, Item] = field(default_factory=dict)
    halls: dict[str, Hall] = field(default_factory=dict)
    windows: dict[tuple[int, str], ServiceWindow] = field(default_factory=dict)
    staff: dict[str, Staff] = field(default_factory=dict)


def _load_refs(session: Session, events: Sequence[CaseEventIn], within: Jurisdiction | None) -> _Refs:
    """Look up every code the batch names. Halls (and, for a department, items) outside the
    caller's jurisdiction are left out, so they read as unknown: existence is not leaked."""
    refs = _Refs()
    for codes in _chunks(sorted({e.item_code for e in events})):
        refs.items.update((i.code, i) for i in session.scalars(select(Item).where(Item.code.in_(codes))))
    for codes in _chunks(sorted({e.hall_code for e in events})):
        refs.halls.update((h.code, h) for h in session.scalars(select(Hall).where(Hall.code.in_(codes))))
    if within is not None:
        refs.halls = {code: h for code, h in refs.halls.items() if within.includes_hall(h.id)}
        if within.kind is ScopeKind.DEPARTMENT:
            refs.items = {code: i for code, i in refs.items.items() if i.department_id == within.scope_id}
    hall_ids = [h.id for h in refs.halls.values()]
    if hall_ids:
        for w in session.scalars(select(ServiceWindow).where(ServiceWindow.hall_id.in_(hall_ids))):
            refs.windows[(w.hall_id, w.code)] = w
    for codes in _chunks(sorted({e.staff_code for e in events if e.staff_code})):
        refs.staff.update((s.code, s) for s in session.scalars(select(Staff).where(Staff.code.in_(codes))))
    return refs


def _reference_problem(event: CaseEventIn, refs: _Refs, calendar: WorkCalendar, now: datetime) -> str | None:
    hall = refs.halls.get(event.hall_code)
    if hall is None:
        return f"unknown hall_code {event.hall_code!r}"
    if event.item_code not in refs.items:
        return f"unknown item_code {event.item_code!r}"
    if event.window_code and (hall.id, event.window_code) not in refs.windows:
        return f"hall {event.hall_code} has no window {event.window_code!r}"
    if event.staff_code and event.staff_code not in refs.staff:
        return f"unknown staff_code {event.staff_code!r}"
    year = shanghai_date(event.at).year
    if calendar.year_rule(year) is None:
        return (
            f"the working-day calendar for {year} is missing; enter it "
            f"(hallwatch calendar import, or POST /api/v1/calendar/years) before sending events of {year}"
        )
    if to_utc(event.at) > now + FUTURE_TOLERANCE:
        return f"event time {event.at.isoformat()} is in the future"
    return None


@dataclass
class _Batch:
    """One batch under inspection: the events, their content hashes and the answer for each."""

    events: Sequence[CaseEventIn]
    hashes: list[str]
    refs: _Refs
    profiles: dict[int, str]
    default_key: str
    results: list[EventResult | None]
    # The replayed state of each case whose merged history passed the check, kept for the write.
    states: dict[str, CaseState] = field(default_factory=dict)
    # Events voided by an approval (SC-18): kept in the log, skipped by the replay.
    voided: dict[int, int] = field(default_factory=dict)

    def mark(self, index: int, outcome: EventOutcome, detail: str | None = None) -> None:
        event = self.events[index]
        self.results[index] = EventResult(
            index=index, event_id=event.event_id, case_no=event.case_no, outcome=outcome, detail=detail
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
        refs=_load_refs(session, events, within),
        profiles=hall_profile_keys(session, default_key=default_profile_key),
        default_key=default_profile_key,
        results=[None] * len(events),
    )
    for index, event in enumerate(events):
        problem = _reference_problem(event, batch.refs, calendar, now)
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
            case = _write_case(session, batch, before, indexes, calendar=calendar, now=now, source=source)
            for index in indexes:
                batch.mark(index, EventOutcome.STORED)
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
    for ids in _chunks(sorted({e.event_id for e in batch.events})):
        rows = session.execute(
            select(CaseEvent.event_id, CaseEvent.content_hash).where(CaseEvent.event_id.in_(ids))
        )
        stored.update({event_id: digest for event_id, digest in rows})
    first_seen: dict[str, int] = {}
    for index in batch.undecided():
        event_id = batch.events[index].event_id
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
    for numbers in _chunks(case_nos):
        query = select(Case).where(Case.case_no.in_(numbers))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()  # serialise concurrent writers of the same case
        found.update((c.case_no, c) for c in session.scalars(query))
    return found


def _check_case(batch: _Batch, case: Case | None, indexes: list[int]) -> None:
    new_events = [batch.events[i] for i in indexes]
    first = new_events[0]
    hall, item = batch.refs.halls[first.hall_code], batch.refs.items[first.item_code]
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
    item, hall = batch.refs.items[first.item_code], batch.refs.halls[first.hall_code]
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
        staff = batch.refs.staff.get(event.staff_code) if event.staff_code else None
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
