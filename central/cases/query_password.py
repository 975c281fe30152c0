"""The query password (查询密码) of a case: central gives every case one when it first records it and
returns it to the hall system that prints the receipt; the citizen types it at a kiosk with the case
number (issue 16, RULES QTH-4).

Six digits, from `secrets`. Stored as a SHA-256 digest salted with the case number, never in clear:
a six-digit secret cannot resist an offline search whatever the hash, so what protects it is the
online throttle of the lookup (`central.public.lookup`); the digest keeps it off screens and exports.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.cases.models import Case
from central.cases.queries import case_clause
from central.core.actor import Actor
from central.registry.jurisdiction import Jurisdiction
from common.public_feed import QUERY_PASSWORD_DIGITS

logger = logging.getLogger(__name__)


def new_query_password() -> str:
    return f"{secrets.randbelow(10**QUERY_PASSWORD_DIGITS):0{QUERY_PASSWORD_DIGITS}d}"


def password_digest(case_no: str, password: str) -> str:
    return hashlib.sha256(f"{case_no}\x00{password}".encode()).hexdigest()


def password_matches(*, case_no: str, password: str, digest: str | None) -> bool:
    """Constant-time; a case without a password matches nothing."""
    expected = password_digest(case_no, password)
    return digest is not None and hmac.compare_digest(expected, digest)


def reissue_query_password(
    session: Session, *, case_no: str, within: Jurisdiction, actor: Actor, now: datetime
) -> str | None:
    """A new password for a case of the caller's jurisdiction (the receipt was lost, or it was never
    given one); the old one stops working. Audited, without the password. None: no such case here."""
    case = session.scalar(select(Case).where(Case.case_no == case_no, case_clause(within)))
    if case is None:
        return None
    password = new_query_password()
    case.query_password_digest = password_digest(case.case_no, password)
    record(
        session,
        actor=actor,
        action="case.query_password.reissue",
        target_type="case",
        target_id=case.case_no,
        at=now,
    )
    session.commit()
    logger.info("query password of case %s reissued by %s", case.case_no, actor.name)
    return password
