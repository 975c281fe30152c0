"""Find what changed on a hall's screens and number it: the one writer of the public feed.

`sync_hall` compares the masked rows the records give now with those the screens were last sent
(`public_case_rows`) and the day's figures with the last ones sent, and stores each difference as the
hall's next numbered change, in the caller's transaction; a NOTIFY on commit wakes every instance's
subscribers (`central.public.hub`). It runs after case events are stored (`publish_stored_cases`, the
app's case-event listener: the screens move within a second) and in the feed job (a new day's lights,
ratings, and whatever another writer changed, e.g. an approved void).

Concurrent syncs of one hall are serialised by the hall's feed row: the first statement updates it, so
the second waits there, then reads the rows the first committed (no change is numbered twice).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from central.calendar.service import load_calendar
from central.cases.models import Case
from central.cases.references import chunks
from central.cases.schemas import CaseEventIn
from central.cases.service import hears_repeats
from central.core.actor import Actor
from central.core.clock import shanghai_date
from central.core.db import conflict_insert
from central.devices.notifier import PUBLIC_FEED, publish_after_commit
from central.profiles.assignment import hall_profile_keys
from central.public.models import PublicCaseRow, PublicFeedEvent, PublicFeedHall
from central.public.rows import hall_light, hall_summary, public_rows
from common.public_feed import CaseRemoved
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Change:
    name: str  # case | case_removed | summary
    data: str
    case_id: int | None = None
    case_no: str | None = None


def _lock_hall(session: Session, hall_id: int) -> PublicFeedHall:
    """The hall's feed row, created if missing, locked for the rest of the transaction."""
    insert = conflict_insert(session)
    session.execute(insert(PublicFeedHall).values(hall_id=hall_id, last_seq=0).on_conflict_do_nothing())
    # An update takes the row's write lock on PostgreSQL and SQLite's database write lock alike.
    session.execute(
        update(PublicFeedHall)
        .where(PublicFeedHall.hall_id == hall_id)
        .values(last_seq=PublicFeedHall.last_seq)
    )
    feed = session.get(PublicFeedHall, hall_id, populate_existing=True)
    assert feed is not None
    return feed


def sync_hall(
    session: Session,
    *,
    hall_id: int,
    now: datetime,
    calendar: WorkCalendar,
    profile_key: str,
    case_ids: Collection[int] | None = None,
) -> int:
    """Number and store what changed on the hall's screens (all its cases, or only `case_ids`, and the
    day's figures), under the hall's rule profile. Answers how many changes; does not commit."""
    feed = _lock_hall(session, hall_id)
    light = hall_light(profile_key=profile_key, now=now, calendar=calendar)
    fresh = public_rows(session, hall_id=hall_id, now=now, light=light, case_ids=case_ids)
    stored = _stored_rows(session, hall_id=hall_id, case_ids=case_ids)
    changes = _case_changes(
        fresh_json={cid: row.model_dump_json() for cid, row in fresh.items()},
        fresh_no={cid: row.case_no for cid, row in fresh.items()},
        stored=stored,
    )
    summary = hall_summary(session, hall_id=hall_id, now=now, light=light)
    summary_data = summary.model_dump(mode="json")
    if summary_data != feed.summary:
        changes.append(_Change("summary", summary.model_dump_json()))
        feed.summary = summary_data
    if case_ids is None:
        feed.full_sync_on, feed.full_sync_at = shanghai_date(now), now
    if changes:
        _store(session, feed=feed, changes=changes, stored=stored, now=now)
    return len(changes)


def _stored_rows(
    session: Session, *, hall_id: int, case_ids: Collection[int] | None
) -> dict[int, PublicCaseRow]:
    query = select(PublicCaseRow).where(PublicCaseRow.hall_id == hall_id)
    if case_ids is None:
        return {row.case_id: row for row in session.scalars(query)}
    found: dict[int, PublicCaseRow] = {}
    for ids in chunks(sorted(case_ids)):
        found.update(
            (row.case_id, row) for row in session.scalars(query.where(PublicCaseRow.case_id.in_(ids)))
        )
    return found


def _case_changes(
    *, fresh_json: dict[int, str], fresh_no: dict[int, str], stored: dict[int, PublicCaseRow]
) -> list[_Change]:
    changes = [
        _Change("case", data, case_id, fresh_no[case_id])
        for case_id, data in sorted(fresh_json.items())
        if case_id not in stored or stored[case_id].data != data
    ]
    changes.extend(
        _Change("case_removed", CaseRemoved(case_no=row.case_no).model_dump_json(), case_id, row.case_no)
        for case_id, row in sorted(stored.items())
        if case_id not in fresh_json
    )
    return changes


def _store(
    session: Session,
    *,
    feed: PublicFeedHall,
    changes: Sequence[_Change],
    stored: dict[int, PublicCaseRow],
    now: datetime,
) -> None:
    seq = feed.last_seq
    removed: list[int] = []
    for change in changes:
        seq += 1
        session.add(
            PublicFeedEvent(hall_id=feed.hall_id, seq=seq, name=change.name, data=change.data, at=now)
        )
        if change.case_id is None:
            continue
        if change.name == "case_removed":
            removed.append(change.case_id)
        elif change.case_id in stored:
            stored[change.case_id].data, stored[change.case_id].seq = change.data, seq
        else:
            session.add(
                PublicCaseRow(
                    case_id=change.case_id,
                    hall_id=feed.hall_id,
                    case_no=change.case_no or "",
                    data=change.data,
                    seq=seq,
                )
            )
    for ids in chunks(removed):
        session.execute(delete(PublicCaseRow).where(PublicCaseRow.case_id.in_(ids)))
    feed.last_seq = seq
    session.flush()
    publish_after_commit(session, PUBLIC_FEED, str(feed.hall_id), str(seq))
    logger.debug("hall %s: %d public change(s), up to %d", feed.hall_id, len(changes), seq)


def number_change(session: Session, *, hall_id: int, name: str, data: str, now: datetime) -> int:
    """Number one change that is not a case's (the notices); answers its number. Does not commit."""
    feed = _lock_hall(session, hall_id)
    _store(session, feed=feed, changes=[_Change(name, data)], stored={}, now=now)
    return feed.last_seq


@hears_repeats  # idempotent: a re-sent batch publishes what its first attempt may not have
def publish_stored_cases(
    session: Session,
    *,
    events: Sequence[CaseEventIn],
    now: datetime,
    default_profile_key: str,
    actor: Actor,
    **_: Any,
) -> int:
    """The case-event listener (app factory): the stored events' cases onto their halls' screens at once.
    Does not commit (the caller does; a failure loses nothing the feed job would not redo)."""
    case_nos = sorted({event.case_no for event in events})
    if not case_nos:
        return 0
    by_hall: dict[int, list[int]] = {}
    for numbers in chunks(case_nos):
        for case_id, hall_id in session.execute(
            select(Case.id, Case.hall_id).where(Case.case_no.in_(numbers))
        ):
            by_hall.setdefault(hall_id, []).append(case_id)
    calendar = load_calendar(session)
    keys = hall_profile_keys(session, default_key=default_profile_key)
    return sum(
        sync_hall(
            session,
            hall_id=hall_id,
            now=now,
            calendar=calendar,
            profile_key=keys.get(hall_id, default_profile_key),
            case_ids=ids,
        )
        for hall_id, ids in sorted(by_hall.items())
    )
