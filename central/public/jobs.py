"""The public feed's periodic pass (`central.jobs`): each hall's screens brought up to date with what
only time or other writers change — a new day's lights and yesterday's closed cases gone (a full pass
once a day, and every `FULL_EVERY` as a belt), today's ratings in the figures — and old changes pruned.

Safe on several instances: each hall's pass is serialised by its feed row (`publish.sync_hall`), and
a second pass right after the first finds nothing to change.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from central.calendar.service import load_calendar
from central.cases.models import Case, CaseEvent
from central.core.clock import Clock, shanghai_date
from central.core.config import Settings
from central.jobs.runner import Job
from central.profiles.assignment import hall_profile_keys
from central.public.models import PublicFeedEvent, PublicFeedHall
from central.public.publish import sync_hall
from central.registry.models import Hall

logger = logging.getLogger(__name__)

PUBLIC_FEED_JOB = "public-feed"
FULL_EVERY = timedelta(minutes=10)
CATCH_UP = timedelta(minutes=5)  # more than two passes at the default interval (60 s)


def recently_stored_cases(session: Session, *, since: datetime) -> dict[int, set[int]]:
    """The cases, by hall, with an event central stored at or after `since`."""
    rows = session.execute(
        select(Case.hall_id, Case.id)
        .join(CaseEvent, CaseEvent.case_id == Case.id)
        .where(CaseEvent.recorded_at >= since)
        .distinct()
    )
    found: dict[int, set[int]] = defaultdict(set)
    for hall_id, case_id in rows:
        found[hall_id].add(case_id)
    return found


def refresh_public_feeds(
    session: Session, *, now: datetime, default_key: str, keep: timedelta, catch_up: timedelta = CATCH_UP
) -> int:
    """One pass over every hall; answers how many changes it numbered. Commits per hall.

    Besides a hall's figures, a pass that is not a full one compares the cases with events stored in
    the last `catch_up`: their publication runs after the events' own commit and is lost when that
    fails (the database restarting between the two), which would leave the screens behind until the
    next full pass."""
    calendar = load_calendar(session)
    recent = recently_stored_cases(session, since=now - catch_up)
    keys = hall_profile_keys(session, default_key=default_key)
    today = shanghai_date(now)
    synced = {
        hall_id: (on, at) for hall_id, on, at in session.execute(
            select(PublicFeedHall.hall_id, PublicFeedHall.full_sync_on, PublicFeedHall.full_sync_at)
        )
    }  # fmt: skip
    changes = 0
    for hall_id in session.scalars(select(Hall.id).order_by(Hall.id)).all():
        on, at = synced.get(hall_id, (None, None))
        full = on != today or at is None or now - at >= FULL_EVERY
        changes += sync_hall(
            session, hall_id=hall_id, now=now, calendar=calendar, profile_key=keys.get(hall_id, default_key),
            case_ids=None if full else recent.get(hall_id, set()),
        )  # fmt: skip
        session.commit()
    pruned = session.execute(delete(PublicFeedEvent).where(PublicFeedEvent.at < now - keep))
    session.commit()
    if changes or getattr(pruned, "rowcount", 0):
        logger.info(
            "public feed: %d change(s), %s old change(s) pruned", changes, getattr(pruned, "rowcount", 0)
        )
    return changes


def public_feed_job(*, interval: float) -> Job:
    def run(factory: sessionmaker[Session], clock: Clock, settings: Settings) -> None:
        with factory() as session:
            refresh_public_feeds(
                session,
                now=clock(),
                default_key=settings.rule_profile,
                keep=timedelta(hours=settings.public_feed_keep_hours),
                catch_up=max(CATCH_UP, timedelta(seconds=3 * interval)),
            )

    return Job(PUBLIC_FEED_JOB, interval, run)
