"""Sign-in as the API and the console page both do it: the throttled check (service.authenticate)
and, for every refusal, a refusal record keyed by the source address and the endpoint — not by the
username tried — so a password-guessing flood is one audit entry and a count per window."""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session

from central.access.models import User
from central.access.refusals import audit_refusal
from central.access.service import LoginError, LoginPolicy, authenticate
from central.access.throttle import AccountDelayedError, SignInRefused, SourceLockedError

logger = logging.getLogger(__name__)

__all__ = ["AccountDelayedError", "LoginError", "SignInRefused", "SourceLockedError", "sign_in"]


def sign_in(
    request: Request, *, session: Session, username: str, password: str, now: datetime, policy: LoginPolicy
) -> User:
    """The user, or LoginError / SignInRefused after auditing the refusal (rate-limited)."""
    try:
        return authenticate(
            session,
            username=username,
            password=password,
            now=now,
            policy=policy,
            remote_addr=request.client.host if request.client else None,
        )
    except (LoginError, SignInRefused) as exc:
        session.rollback()
        why = "throttled" if isinstance(exc, SignInRefused) else "wrong username or password"
        audit_refusal(
            request,
            action="refused.sign_in",
            detail={"username": username[:64], "why": why},
            target=f"{request.method} {request.url.path}",
        )
        raise


def retry_after(exc: SignInRefused, now: datetime) -> str:
    """Seconds to wait, for the Retry-After header."""
    return str(max(1, int((exc.until - now).total_seconds() + 0.999)))
