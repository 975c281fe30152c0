"""Refused requests are evidence: bad or expired tokens, forbidden actions, another hall's or
jurisdiction's objects, failed sign-ins ("each refused with the right status and audited").

Each refusal is kept in the database, never only in memory: refusals of one (caller, action,
target) within one window (settings.refusal_window_seconds) form one `refusal_tallies` row whose
count every further refusal increments; the first of them is also an audit-chain entry, and the
next window's first entry carries the previous windows' uncounted rest
(`similar_refusals_not_logged`). So a flood writes one row and one chain entry per window, and a
restart loses no count. The refused request's own work is rolled back; this is written in its own
transaction.

Anonymous failed sign-ins are keyed by source address and endpoint (not by the username tried), so
400 guesses from one address in ten seconds are one chain entry and a count of 400.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from central.access.models import RefusalTally
from central.audit.chain import record
from central.core.actor import Actor
from central.core.db import conflict_insert

logger = logging.getLogger(__name__)

PRINCIPAL_STATE = "principal_actor"  # request.state attribute set once a user or device is known
AUDITED_STATE = "refusal_audited"  # set once this request's refusal is recorded: never twice
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class RefusalLog:
    """Writes refusals to `refusal_tallies` and the audit chain; keeps no state of its own."""

    window: timedelta = timedelta(seconds=60)

    def window_start(self, now: datetime) -> datetime:
        step = self.window.total_seconds()
        return _EPOCH + timedelta(seconds=((now - _EPOCH).total_seconds() // step) * step)

    def write(
        self,
        factory: sessionmaker[Session],
        *,
        actor: Actor,
        action: str,
        target: str,
        detail: Any,
        now: datetime,
    ) -> bool:
        """Count the refusal; True when it also became an audit entry (the window's first)."""
        try:
            with factory() as session:
                first = self._count(
                    session, actor=actor, action=action, target=target[:200], detail=detail, now=now
                )
                if first:
                    self._audit(
                        session, actor=actor, action=action, target=target[:200], detail=detail, now=now
                    )
                session.commit()
        except Exception:  # the refusal itself must still reach the caller
            logger.exception("could not audit refused request %s %s", action, target)
            return False
        return first

    def _count(
        self, session: Session, *, actor: Actor, action: str, target: str, detail: Any, now: datetime
    ) -> bool:
        """Add one to this window's row; True when this call created it."""
        key = _key(actor.label[:120], action[:60], target, self.window_start(now))
        text = _text(detail)
        insert = conflict_insert(session)
        created = session.scalar(  # no row back when the window's row already exists
            insert(RefusalTally)
            .values(**key, count=1, first_at=now, last_at=now, last_detail=text, carried=False)
            .on_conflict_do_nothing()
            .returning(RefusalTally.id)
        )
        if created is not None:
            return True
        session.execute(
            update(RefusalTally)
            .where(*_matching(key))
            .values(count=RefusalTally.count + 1, last_at=now, last_detail=text)
            .execution_options(synchronize_session=False)
        )
        return False

    def _audit(
        self, session: Session, *, actor: Actor, action: str, target: str, detail: Any, now: datetime
    ) -> None:
        """The window's first refusal, carrying the earlier windows' uncounted rest."""
        start = self.window_start(now)
        earlier = and_(
            RefusalTally.caller == actor.label[:120],
            RefusalTally.action == action[:60],
            RefusalTally.target == target,
            RefusalTally.window_start < start,
            RefusalTally.carried.is_(False),
        )
        folded = (
            session.scalar(select(func.coalesce(func.sum(RefusalTally.count - 1), 0)).where(earlier)) or 0
        )
        session.execute(update(RefusalTally).where(earlier).values(carried=True))
        after = {"detail": detail, **({"similar_refusals_not_logged": int(folded)} if folded else {})}
        record(
            session, actor=actor, action=action, target_type="request", target_id=target, after=after, at=now
        )


def _key(caller: str, action: str, target: str, window_start: datetime) -> dict[str, Any]:
    return {"caller": caller, "action": action, "target": target, "window_start": window_start}


def _matching(key: dict[str, Any]) -> list[Any]:
    return [getattr(RefusalTally, name) == value for name, value in key.items()]


def _text(detail: Any) -> str:
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, default=str)
    return text[:500]


def actor_of_request(request: Request) -> Actor:
    known = getattr(request.state, PRINCIPAL_STATE, None)
    if isinstance(known, Actor):
        return known
    remote = request.client.host if request.client else "?"
    return Actor(kind="anonymous", name=remote, remote_addr=remote)


def audit_refusal(request: Request, *, action: str, detail: Any, target: str | None = None) -> None:
    """Record a refused request (counted; one chain entry per window); call it where the refusal is
    decided or handled. `target` defaults to the method and path (which name the object tried)."""
    if getattr(request.state, AUDITED_STATE, False):
        return
    setattr(request.state, AUDITED_STATE, True)
    app = request.app
    log: RefusalLog = app.state.refusal_log
    log.write(
        app.state.session_factory,
        actor=actor_of_request(request),
        action=action,
        target=target or f"{request.method} {request.url.path}",
        detail=detail,
        now=app.state.clock(),
    )
