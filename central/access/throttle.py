"""Sign-in throttling: a lock per (username, source address) and a short delay per username.

OWASP's authentication cheat sheet asks for both a per-source and a per-account limit, and warns
that an account lockout anyone can trigger is a denial of service. So:

- one source address that fails `max_failures` times in a row for one username is locked out *of
  that username* for `lockout` (423): a guesser stops; the real person at another address is not
  affected;
- failures of one username from all sources together, past `account_delay_after`, make each next
  attempt wait 1, 2, 4 … seconds up to `account_delay_max` (429 with Retry-After): spreading guesses
  over many addresses stays slow, yet nobody can shut the real person out for longer than that
  short delay; a right password clears the account's count.

Every username, existing or not (lower-cased), is throttled the same way, so answers do not tell
which usernames exist. The counts live in `sign_in_failures`, shared by every central instance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.orm import Session

from central.access.models import SignInFailure
from central.core.db import conflict_insert

logger = logging.getLogger(__name__)

EVERY_SOURCE = "*"  # the per-account row
KEEP_FOR = timedelta(days=1)  # rows idle this long (and not locked) are pruned


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    lockout: timedelta
    account_delay_after: int
    account_delay_max: timedelta


class SignInRefused(Exception):
    """Sign-in refused before the password counts; `until` says when to try again."""

    status = 423

    def __init__(self, until: datetime, message: str) -> None:
        super().__init__(message)
        self.until = until


class SourceLockedError(SignInRefused):
    status = 423

    def __init__(self, until: datetime) -> None:
        super().__init__(
            until, f"too many failed sign-ins from your address: locked until {until.isoformat()}"
        )


class AccountDelayedError(SignInRefused):
    status = 429

    def __init__(self, until: datetime) -> None:
        super().__init__(
            until, f"too many failed sign-ins for this username: try again after {until.isoformat()}"
        )


def username_key(username: str) -> str:
    return username.strip().lower()[:64]


def refusal(session: Session, *, key: str, source: str, now: datetime) -> SignInRefused | None:
    """Why this attempt is refused before its password counts, or None."""
    rows = session.scalars(
        select(SignInFailure).where(
            SignInFailure.username_key == key, SignInFailure.source.in_([source[:64], EVERY_SOURCE])
        )
    ).all()
    for row in sorted(rows, key=lambda r: r.source == EVERY_SOURCE):  # the source's own lock first
        if row.locked_until is not None and row.locked_until > now:
            if row.source == EVERY_SOURCE:
                return AccountDelayedError(row.locked_until)
            return SourceLockedError(row.locked_until)
    return None


def note_failure(session: Session, *, key: str, source: str, now: datetime, policy: ThrottlePolicy) -> None:
    """Count a wrong password (or unknown username) for the source and the account; lock or delay.
    Does not commit."""
    source_row = _counted(session, key=key, source=source[:64], now=now, stale_after=policy.lockout)
    if source_row.failures >= policy.max_failures:
        source_row.locked_until, source_row.failures = now + policy.lockout, 0
        logger.warning("sign-in: %s locked out of %r after repeated failures", source, key)
    account = _counted(session, key=key, source=EVERY_SOURCE, now=now, stale_after=policy.lockout)
    excess = account.failures - policy.account_delay_after
    if excess >= 0:
        wait = min(timedelta(seconds=2 ** min(excess, 20)), policy.account_delay_max)
        account.locked_until = now + wait
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.last_failure_at < now - max(KEEP_FOR, policy.lockout),
            or_(SignInFailure.locked_until.is_(None), SignInFailure.locked_until < now),
        )
    )
    session.flush()


def note_success(session: Session, *, key: str, source: str) -> None:
    """The right password: this source's and the account's counts start again. Does not commit."""
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.username_key == key, SignInFailure.source.in_([source[:64], EVERY_SOURCE])
        )
    )


def _counted(
    session: Session, *, key: str, source: str, now: datetime, stale_after: timedelta
) -> SignInFailure:
    """The row of (key, source) with one more failure (counting from 1 when the last was stale);
    an atomic increment, so concurrent failures on several instances all count."""
    insert = conflict_insert(session)
    values = {"username_key": key, "source": source, "failures": 0, "last_failure_at": now}
    session.execute(insert(SignInFailure).values(**values).on_conflict_do_nothing())
    where = and_(SignInFailure.username_key == key, SignInFailure.source == source)
    stale = SignInFailure.last_failure_at < now - stale_after
    session.execute(
        update(SignInFailure)
        .where(where)
        .values(failures=case((stale, 1), else_=SignInFailure.failures + 1), last_failure_at=now)
        .execution_options(synchronize_session=False)
    )
    row = session.scalars(select(SignInFailure).where(where).execution_options(populate_existing=True)).one()
    return row
