"""Anti-abuse without a login (issue 18): a question a person answers, and a per-address count.

**The question.** A small sum in Chinese numerals (七加五等于多少？). Its answer is not kept anywhere:
the form carries a token `nonce.expires.mac.answer-mac`, HMAC-SHA256s under the server's secret of
the nonce and expiry, and of those and the answer, so central checks an answer without state and nobody can
forge a token for an answer of their choosing. Each nonce is spent once, right or wrong
(`complaint_challenge_uses`, shared by every instance): one token, one try, one complaint. No
third-party service is involved.

**The count.** Complaints sent from one address are counted in the sign-in throttle's table
(`central.access.throttle`, key `complaint:submit`): after `complaint_submissions_per_hour` in a
row, each within an hour of the last, that address waits an hour. A hall's kiosk (a display agent
showing its device key, `central.complaints.intake.Sender`) is counted as itself, `device:<code>`,
against `complaint_kiosk_submissions_per_hour`: everyone in the hall shares it, so one person's
complaints must not shut it for the next, yet a run of them from it stops for an hour like an
address's. The public API's per-address request limits (`central.public.limits`) apply before either
(a display agent is not held to them).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from central.access.throttle import ThrottlePolicy, note_failure, refusal
from central.complaints.models import ComplaintChallengeUse
from central.core.config import Settings
from central.core.db import conflict_insert

logger = logging.getLogger(__name__)

_PROCESS_SECRET = secrets.token_bytes(32)  # when the deployment sets none (one instance)
_NUMERALS = "零一二三四五六七八九十"
SUBMIT_KEY = "complaint:submit"
_uses = cast(Table, ComplaintChallengeUse.__table__)


class ChallengeFailed(ValueError):
    """The answer is wrong, the token forged, expired or already used; `message` is zh-CN."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SubmissionsRefused(Exception):
    """Too many complaints from this address: `retry_after` seconds until the next is taken."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many complaints from this address, retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Challenge:
    question: str
    token: str
    expires_at: datetime


def challenge_secret(settings: Settings) -> bytes:
    configured = settings.complaint_challenge_secret
    return configured.get_secret_value().encode() if configured is not None else _PROCESS_SECRET


def _chinese(number: int) -> str:
    """1..20 in Chinese numerals (十二, 二十)."""
    if number <= 10:
        return _NUMERALS[number]
    tens, ones = divmod(number, 10)
    return ("" if tens == 1 else _NUMERALS[tens]) + "十" + (_NUMERALS[ones] if ones else "")


def _mac(secret: bytes, *parts: object) -> str:
    message = "\x00".join(["complaint-challenge", *(str(p) for p in parts)]).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def new_challenge(*, secret: bytes, now: datetime, ttl: timedelta) -> Challenge:
    first, second = secrets.randbelow(15) + 2, secrets.randbelow(9) + 1
    if secrets.randbelow(2):
        question, answer = f"{_chinese(first)}加{_chinese(second)}等于多少？", first + second
    else:
        first, second = max(first, second), min(first, second)
        question, answer = f"{_chinese(first)}减{_chinese(second)}等于多少？", first - second
    nonce = secrets.token_hex(12)
    expires_at = now + ttl
    expires = int(expires_at.timestamp())
    # Two MACs: the token's own (a forged token is refused without touching the database) and the
    # answer's (checked against what the person typed).
    token = f"{nonce}.{expires}.{_mac(secret, nonce, expires)}.{_mac(secret, nonce, expires, answer)}"
    return Challenge(question, token, expires_at)


def _answer(text: str) -> int | None:
    digits = unicodedata.normalize("NFKC", text).strip()  # full-width １２ too
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 3 else None


def check_answer(session: Session, *, secret: bytes, token: str, answer: str, now: datetime) -> str:
    """The token's nonce when the answer is right and the token genuine, unexpired and unused;
    raises ChallengeFailed otherwise. Spends the nonce either way: a wrong answer to a genuine token
    commits its spending at once (call this before anything else is written), so a token gives one
    try; a right one is spent in the caller's transaction."""
    parts = token.strip().split(".") if token.isascii() else []
    if len(parts) != 4 or len(parts[0]) != 24 or not parts[1].isdigit() or len(parts[1]) > 11:
        raise ChallengeFailed("验证题无效，请刷新页面后重新作答。")
    nonce, expires_text, token_mac, answer_mac = parts
    expires = int(expires_text)
    if not hmac.compare_digest(_mac(secret, nonce, expires), token_mac):
        raise ChallengeFailed("验证题无效，请刷新页面后重新作答。")
    if datetime.fromtimestamp(expires, UTC) < now:
        raise ChallengeFailed("验证题已过期，请重新作答。")
    number = _answer(answer)
    if number is None or not hmac.compare_digest(_mac(secret, nonce, expires, number), answer_mac):
        spend(session, nonce=nonce, now=now)
        session.commit()
        raise ChallengeFailed("验证题答案不正确，请重新作答。")
    if not spend(session, nonce=nonce, now=now):
        raise ChallengeFailed("验证题已使用过，请重新作答。")
    return nonce


def spend(session: Session, *, nonce: str, now: datetime, keep: timedelta = timedelta(days=1)) -> bool:
    """Record the nonce as used; False when it was already. Prunes nonces older than `keep` (longer
    than any question lives). Does not commit."""
    session.execute(delete(ComplaintChallengeUse).where(ComplaintChallengeUse.used_at < now - keep))
    dialect_insert = conflict_insert(session)
    statement = dialect_insert(_uses).values(nonce=nonce, used_at=now).on_conflict_do_nothing()
    result = cast(CursorResult[Any], session.execute(statement.execution_options(preserve_rowcount=True)))
    return result.rowcount == 1


def _policy(per_hour: int) -> ThrottlePolicy:
    # Only the per-address lock counts: the all-addresses delay would let anyone stop everyone.
    return ThrottlePolicy(
        max_failures=per_hour,
        lockout=timedelta(hours=1),
        account_delay_after=2**31,
        account_delay_max=timedelta(seconds=1),
    )


def admit_submission(session: Session, *, source: str, now: datetime) -> None:
    """Raise SubmissionsRefused while `source` waits out its hour."""
    refused = refusal(session, key=SUBMIT_KEY, source=source, now=now)
    if refused is not None and refused.until > now:
        raise SubmissionsRefused(max(1, int((refused.until - now).total_seconds()) + 1))


def count_submission(session: Session, *, source: str, now: datetime, per_hour: int) -> None:
    """Count one complaint from `source` (in the complaint's transaction)."""
    note_failure(session, key=SUBMIT_KEY, source=source, now=now, policy=_policy(per_hour))
