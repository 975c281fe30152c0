"""The hall's notices on its screens (SZ-6: laws, duties, procedures, fees): administrators of the hall's
jurisdiction add and end them; each change is numbered on the feed as the whole list (`notices`).
Text goes through `scrub_identifiers` (no ID or phone number reaches a screen); audited."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.core.actor import Actor
from central.public.models import PublicNotice
from central.public.publish import number_change
from central.public.snapshot import active_notices
from common.masking import scrub_identifiers
from common.public_feed import Notice, NoticeList

logger = logging.getLogger(__name__)


def _publish(session: Session, *, hall_id: int, now: datetime) -> list[Notice]:
    notices = active_notices(session, hall_id=hall_id)
    number_change(
        session, hall_id=hall_id, name="notices", data=NoticeList(notices=notices).model_dump_json(), now=now
    )
    return notices


def add_notice(session: Session, *, hall_id: int, text: str, actor: Actor, now: datetime) -> Notice:
    """Commits. The text as shown: identifiers cut out."""
    shown = scrub_identifiers(text.strip())
    notice = PublicNotice(hall_id=hall_id, text=shown, created_by=actor.name, created_at=now)
    session.add(notice)
    session.flush()
    record(
        session,
        actor=actor,
        action="public.notice.add",
        target_type="hall_notice",
        target_id=str(notice.id),
        after={"hall_id": hall_id, "text": shown},
        at=now,
    )
    _publish(session, hall_id=hall_id, now=now)
    session.commit()
    return Notice(id=notice.id, text=shown)


def end_notice(session: Session, *, hall_id: int, notice_id: int, actor: Actor, now: datetime) -> bool:
    """Commits; False when the hall has no such notice showing."""
    notice = session.scalar(
        select(PublicNotice).where(
            PublicNotice.id == notice_id, PublicNotice.hall_id == hall_id, PublicNotice.ended_at.is_(None)
        )
    )
    if notice is None:
        return False
    notice.ended_at = now
    record(
        session,
        actor=actor,
        action="public.notice.end",
        target_type="hall_notice",
        target_id=str(notice.id),
        before={"text": notice.text},
        at=now,
    )
    _publish(session, hall_id=hall_id, now=now)
    session.commit()
    return True
