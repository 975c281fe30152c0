"""Refused requests in the audit chain: bad or expired tokens, forbidden actions, another hall's or
jurisdiction's objects ("each refused with the right status and audited").

An anonymous flood must not turn into a write flood, so each (who, what) pair is written at most
once per window per central instance; the entries skipped meanwhile are counted into the next one.
The entry is written in its own transaction: the refused request's own work is rolled back.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from central.audit.chain import record
from central.core.actor import Actor

logger = logging.getLogger(__name__)

PRINCIPAL_STATE = "principal_actor"  # request.state attribute set once a user or device is known


@dataclass
class _Slot:
    written_at: datetime
    suppressed: int = 0


@dataclass
class RefusalLog:
    window: timedelta = timedelta(seconds=60)
    max_keys: int = 10_000
    _slots: OrderedDict[tuple[str, str], _Slot] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, key: tuple[str, str], now: datetime) -> int | None:
        """None when this refusal is folded into an earlier entry; else how many were folded since."""
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None and now - slot.written_at < self.window:
                slot.suppressed += 1
                return None
            folded = slot.suppressed if slot else 0
            self._slots[key] = _Slot(written_at=now)
            self._slots.move_to_end(key)
            while len(self._slots) > self.max_keys:
                self._slots.popitem(last=False)
            return folded

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
        folded = self.admit((actor.label, action), now)
        if folded is None:
            return False
        after = {"detail": detail, **({"similar_refusals_not_logged": folded} if folded else {})}
        try:
            with factory() as session:
                record(
                    session,
                    actor=actor,
                    action=action,
                    target_type="request",
                    target_id=target[:200],
                    after=after,
                    at=now,
                )
                session.commit()
        except Exception:  # the refusal itself must still reach the caller
            logger.exception("could not audit refused request %s %s", action, target)
            return False
        return True


def actor_of_request(request: Request) -> Actor:
    known = getattr(request.state, PRINCIPAL_STATE, None)
    if isinstance(known, Actor):
        return known
    remote = request.client.host if request.client else "?"
    return Actor(kind="anonymous", name=remote, remote_addr=remote)


def audit_refusal(request: Request, *, action: str, detail: Any) -> None:
    """Record a refused request (rate-limited); call it where the refusal is decided or handled."""
    app = request.app
    log: RefusalLog = app.state.refusal_log
    target = f"{request.method} {request.url.path}"
    log.write(
        app.state.session_factory,
        actor=actor_of_request(request),
        action=action,
        target=target,
        detail=detail,
        now=app.state.clock(),
    )
