"""Write a replayed case state into the `cases` row (the projection of its event log)."""

from __future__ import annotations

import logging
from collections.abc import Container, Iterable
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, object_session

from central.cases.clock import DueDates, due_dates
from central.cases.lifecycle import CaseState, EventFact, EventType, ExtensionPolicy, replay
from central.cases.models import Case, CaseEvent, CaseEventVoid
from central.profiles.assignment import hall_profile_keys
from common.profiles.loader import get_profile
from common.profiles.schema import RuleProfile
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)


def policy_of(profile: RuleProfile) -> ExtensionPolicy:
    return ExtensionPolicy(max_times=profile.extension.max_times, max_workdays=profile.extension.max_workdays)


def fact_of(event: CaseEvent) -> EventFact:
    return EventFact(
        type=EventType(event.type), at=event.at, days=event.days, reason=event.reason, event_id=event.event_id
    )


_CHUNK = 900  # stay under every backend's bound-parameter limit


def event_voids(session: Session, *, case_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Voided events (SC-18) as {case_events.id: approval id}, of the given cases or of all cases.

    Voids are rare and only ever added by an approval; the voided event stays in the log (QTH-1).
    """
    query = select(CaseEventVoid.event_id, CaseEventVoid.approval_id)
    if case_ids is None:
        return {event_id: approval_id for event_id, approval_id in session.execute(query)}
    ids = sorted(set(case_ids))
    found: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = session.execute(
            query.join(CaseEvent, CaseEvent.id == CaseEventVoid.event_id).where(CaseEvent.case_id.in_(chunk))
        )
        found.update({event_id: approval_id for event_id, approval_id in rows})
    return found


def live_events(case: Case, *, voided: Container[int]) -> list[CaseEvent]:
    """The case's events that count, in replay order: the log minus approved voids."""
    return sorted((e for e in case.events if e.id not in voided), key=lambda e: (e.at, e.id or 0))


def replay_case(case: Case, *, profile: RuleProfile, voided: Container[int] | None = None) -> CaseState:
    """Replay the case's log, skipping voided events (looked up when `voided` is not given)."""
    if voided is None:
        session = object_session(case)
        voided = event_voids(session, case_ids=[case.id]) if session is not None and case.id else {}
    return replay((fact_of(e) for e in live_events(case, voided=voided)), policy=policy_of(profile))


def apply_projection(case: Case, state: CaseState, *, calendar: WorkCalendar) -> None:
    case.status = state.status.value
    case.received_at = state.received_at
    case.accepted_on = state.accepted_on
    case.closed_on = state.closed_on
    case.extension_days = state.extension_days
    dues, uncountable = case_due_dates(case, state, calendar=calendar)
    case.calendar_missing = uncountable or bool(dues and dues.missing_years)
    case.promised_due_date = dues.promised if dues else None
    case.legal_due_date = dues.legal if dues else None
    case.paused_since = dues.paused_since if dues else None
    case.paused_remaining_promised = dues.paused_remaining_promised if dues else None
    case.paused_remaining_legal = dues.paused_remaining_legal if dues else None
    if case.calendar_missing:
        logger.debug("case %s: a due date needs a missing calendar year", case.case_no)


def case_due_dates(case: Case, state: CaseState, *, calendar: WorkCalendar) -> tuple[DueDates | None, bool]:
    """The replayed case's due dates under `calendar`, and whether neither could be counted (a
    calendar year nobody entered): the projection and a calendar replacement's preview share it."""
    try:
        dues = due_dates(
            state,
            calendar=calendar,
            promised_limit=case.promised_limit_days,
            legal_limit=case.legal_limit_days,
        )
    except CalendarMissingError:
        return None, True
    return dues, False


def reproject_after_calendar_change(
    session: Session, *, year: int, calendar: WorkCalendar, default_key: str
) -> int:
    """Recompute the projection of every case a changed calendar year can move. Does not commit."""
    start = date(year, 1, 1)
    query = (
        select(Case)
        .where(
            or_(
                Case.calendar_missing.is_(True),
                Case.promised_due_date >= start,
                Case.legal_due_date >= start,
                Case.paused_since.is_not(None),
            )
        )
        .execution_options(yield_per=1000)
    )
    keys = hall_profile_keys(session, default_key=default_key)
    voided = event_voids(session)
    count = 0
    for case in session.scalars(query):
        state = replay_case(case, profile=get_profile(keys.get(case.hall_id, default_key)), voided=voided)
        apply_projection(case, state, calendar=calendar)
        count += 1
    session.flush()
    logger.info("reprojected %d case(s) after calendar year %s changed", count, year)
    return count
