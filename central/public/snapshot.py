"""A hall's whole public state at one change number, read consistently, and the stored changes after
a number (for a client resuming from further back than an instance keeps in memory).

The snapshot is assembled from the stored JSON of each row (never re-serialised), so building one for
a hall of thousands of open cases costs one query and a join of strings.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.core.clock import shanghai_date
from central.public.models import PublicCaseRow, PublicFeedEvent, PublicFeedHall, PublicNotice
from central.registry.models import Hall
from common.public_feed import HallRef, HallSummary, Notice, NoticeList, SnapshotReason

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotParts:
    """Everything of a snapshot but its reason, which differs per client."""

    seq: int
    head: str  # '{"hall":…,"last_event_id":N,"generated_at":…,'
    tail: str  # '"cases":[…],"summary":…,"notices":[…]}'

    def json(self, reason: SnapshotReason) -> str:
        return f'{self.head}"reason":"{reason}",{self.tail}'


def hall_by_code(session: Session, code: str) -> Hall | None:
    return session.scalar(select(Hall).where(Hall.code == code))


def active_notices(session: Session, *, hall_id: int) -> list[Notice]:
    rows = session.scalars(
        select(PublicNotice)
        .where(PublicNotice.hall_id == hall_id, PublicNotice.ended_at.is_(None))
        .order_by(PublicNotice.id)
    )
    return [Notice(id=row.id, text=row.text) for row in rows]


def build_snapshot(session: Session, *, hall: Hall, now: datetime) -> SnapshotParts:
    """The hall's state as of its last change number. On PostgreSQL the feed row is share-locked
    first: a writer numbering a change holds it, so the rows read here are exactly those up to the
    number read with them (SQLite reads one transaction's snapshot anyway)."""
    query = select(PublicFeedHall).where(PublicFeedHall.hall_id == hall.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    feed = session.scalar(query)
    seq = feed.last_seq if feed else 0
    summary = feed.summary if feed and feed.summary else _empty_summary(now)
    rows = session.scalars(
        select(PublicCaseRow.data).where(PublicCaseRow.hall_id == hall.id).order_by(PublicCaseRow.case_no)
    ).all()
    notices = NoticeList(notices=active_notices(session, hall_id=hall.id)).model_dump_json()
    session.rollback()  # end the read (and release the share lock) at once
    head = (
        f'{{"hall":{HallRef(code=hall.code, name=hall.name).model_dump_json()},"last_event_id":{seq},'
        f'"generated_at":{json.dumps(now.isoformat())},'
    )
    tail = f'"cases":[{",".join(rows)}],"summary":{json.dumps(summary, ensure_ascii=False)},{notices[1:]}'
    return SnapshotParts(seq=seq, head=head, tail=tail)


def _empty_summary(now: datetime) -> dict[str, object]:
    day = shanghai_date(now)
    return HallSummary(
        day=day, received=0, completed=0, overdue=0, open=0, ratings=0, satisfied=0
    ).model_dump(mode="json")


@dataclass(frozen=True)
class StoredChanges:
    first_kept: int | None  # the oldest change number still stored (None: none stored)
    entries: list[tuple[int, str, str]]  # (seq, name, data) after the asked number, in order


def first_kept_seq(session: Session, hall_id: int) -> int | None:
    """The oldest change number of the hall still stored (None: none stored)."""
    return session.scalar(select(func.min(PublicFeedEvent.seq)).where(PublicFeedEvent.hall_id == hall_id))


def changes_after(session: Session, *, hall_id: int, after: int, limit: int) -> StoredChanges:
    first = first_kept_seq(session, hall_id)
    rows = session.execute(
        select(PublicFeedEvent.seq, PublicFeedEvent.name, PublicFeedEvent.data)
        .where(PublicFeedEvent.hall_id == hall_id, PublicFeedEvent.seq > after)
        .order_by(PublicFeedEvent.seq)
        .limit(limit)
    ).all()
    session.rollback()
    return StoredChanges(first_kept=first, entries=[(seq, name, data) for seq, name, data in rows])


def last_seq(session: Session, hall_id: int) -> int:
    return session.scalar(select(PublicFeedHall.last_seq).where(PublicFeedHall.hall_id == hall_id)) or 0


def snapshot_of(session: Session, hall_id: int, *, now: datetime) -> SnapshotParts:
    hall = session.get(Hall, hall_id)
    if hall is None:
        raise LookupError(f"no hall {hall_id}")
    return build_snapshot(session, hall=hall, now=now)
