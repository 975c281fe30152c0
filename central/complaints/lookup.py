"""The complainant's status lookup: the complaint number and its query password, answered like the
kiosk's case lookup (`central.public.lookup`): a wrong password and an unknown number get the same
answer after the same work, and count alike against the guesser (per number and address a lock
after a few failures, per number a growing delay whoever guesses)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.throttle import note_failure, note_success, refusal
from central.cases.query_password import password_digest, password_matches
from central.complaints.models import Complaint
from central.public.lookup import LOOKUP_POLICY, LookupRefused

logger = logging.getLogger(__name__)

_UNKNOWN_DIGEST = password_digest("-", "-")


def _key(number: str) -> str:
    return f"complaint:{number.strip().upper()}"[:64]


def lookup_complaint(
    session: Session, *, number: str, password: str, source: str, now: datetime
) -> Complaint | None:
    """The complaint, or None (unknown number or wrong password, alike). Raises LookupRefused.
    Commits the count of a failure (a guess must count even though the answer is a 404)."""
    key = _key(number)
    refused = refusal(session, key=key, source=source, now=now)
    if refused is not None:
        raise LookupRefused(max(1, int((refused.until - now).total_seconds()) + 1))
    found = session.scalar(select(Complaint).where(Complaint.number == number))
    digest = found.query_password_digest if found is not None else _UNKNOWN_DIGEST
    if found is None or not password_matches(case_no=found.number, password=password, digest=digest):
        if found is None:  # the same work as a wrong password
            password_matches(case_no="-", password=password, digest=digest)
        note_failure(session, key=key, source=source, now=now, policy=LOOKUP_POLICY)
        session.commit()
        logger.info("complaint status lookup refused (source %s)", source)
        return None
    note_success(session, key=key, source=source)
    session.commit()
    return found
