"""The kiosk's case lookup: the case number and its query password give the case's whole timeline.

A wrong password and an unknown number get the same answer, after the same work, and count the same
way against the guesser: per (case number, client) a lock after a few failures, per case number a
growing delay whoever guesses (`central.access.throttle`, shared by every instance) — whether a case
exists is never told.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.throttle import SignInRefused, ThrottlePolicy, note_failure, note_success, refusal
from central.cases.labels import EVENT_LABELS
from central.cases.lifecycle import EventType
from central.cases.models import Case
from central.cases.projection import event_voids, live_events
from central.cases.query_password import password_digest, password_matches
from central.profiles.assignment import hall_profile_keys
from central.public.rows import hall_light, public_rows
from common.masking import public_staff
from common.public_feed import CaseLookup, CaseTimeline, TimelineStep
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

LOOKUP_POLICY = ThrottlePolicy(
    max_failures=5,
    lockout=timedelta(minutes=15),
    account_delay_after=10,
    account_delay_max=timedelta(minutes=5),
)
_UNKNOWN_DIGEST = password_digest("-", "-")  # compared against for an unknown case: the same work


class LookupRefused(Exception):
    """Too many wrong tries: `retry_after` seconds until the next one counts."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many tries, retry after {retry_after} s")
        self.retry_after = retry_after


def _key(case_no: str) -> str:
    return f"case:{case_no.strip().lower()}"[:64]


def lookup_case(
    session: Session,
    *,
    query: CaseLookup,
    source: str,
    now: datetime,
    calendar: WorkCalendar,
    default_key: str,
) -> CaseTimeline | None:
    """The case's timeline, or None (unknown case or wrong password, alike). Raises LookupRefused.
    Commits the count of a failure (a guess must count even though the answer is a 404)."""
    key = _key(query.case_no)
    refused: SignInRefused | None = refusal(session, key=key, source=source, now=now)
    if refused is not None:
        raise LookupRefused(max(1, int((refused.until - now).total_seconds()) + 1))
    case = session.scalar(select(Case).where(Case.case_no == query.case_no))
    digest = case.query_password_digest if case is not None else _UNKNOWN_DIGEST
    number = case.case_no if case is not None else "-"
    if case is None or not password_matches(case_no=number, password=query.password, digest=digest):
        note_failure(session, key=key, source=source, now=now, policy=LOOKUP_POLICY)
        session.commit()
        logger.info("kiosk lookup refused (source %s)", source)
        return None
    note_success(session, key=key, source=source)
    session.commit()
    return _timeline(session, case=case, now=now, calendar=calendar, default_key=default_key)


def _timeline(
    session: Session, *, case: Case, now: datetime, calendar: WorkCalendar, default_key: str
) -> CaseTimeline:
    key = hall_profile_keys(session, default_key=default_key).get(case.hall_id, default_key)
    light = hall_light(profile_key=key, now=now, calendar=calendar)
    row = public_rows(
        session, hall_id=case.hall_id, now=now, light=light, case_ids=[case.id], on_screen_only=False
    )[case.id]
    voided = event_voids(session, case_ids=[case.id])
    steps = [
        TimelineStep(
            at=event.at,
            label=EVENT_LABELS[EventType(event.type)],
            window=event.window.name if event.window else None,
            staff=public_staff(event.staff.name, event.staff.code) if event.staff else None,
            days=event.days,
        )
        for event in live_events(case, voided=voided)
    ]
    return CaseTimeline(
        case=row,
        legal_due_date=case.legal_due_date,
        promised_limit_days=case.promised_limit_days,
        legal_limit_days=case.legal_limit_days,
        extension_days=case.extension_days,
        steps=steps,
    )
