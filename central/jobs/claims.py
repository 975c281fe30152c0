"""Which central instance runs a periodic job's next pass.

Every `hallwatch serve` (and `hallwatch jobs`) runs a `JobRunner` with the same jobs. Left alone, two
instances did each pass twice, and an instance that restarted ran every job again at start-up while it
caught up with its own traffic. A job's row in `job_runs` settles it: a pass is due `interval` seconds
after the last one finished anywhere, and the instance whose one-row UPDATE claims it runs it. Passes
stay safe to run at once (each job's module says how), so a claim saves work and never guards
correctness: a lease that lapses under a slow pass lets a second one start, which is harmless.

The claim holds a lease, renewed while the pass runs; an instance killed mid-pass stops renewing and
its lease lapses within `LEASE_SECONDS`, so another takes over. Times are the instances' wall clocks
(NTP keeps them within milliseconds of each other; a job's interval is a minute or more).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session, sessionmaker

from central.core.db import conflict_insert
from central.jobs.models import JobRun

logger = logging.getLogger(__name__)

LEASE_SECONDS = 60.0  # a claim not renewed for this long is given up (its instance is gone)
RENEW_SECONDS = 20.0  # a running pass renews its lease this often
WallClock = Callable[[], datetime]


def wall_clock() -> datetime:
    """Real time, even where the app runs on a test clock: claims are about instances' real pace."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claimed:
    token: str


@dataclass(frozen=True)
class NotDue:
    due_at: datetime  # when to look again: the pass after the latest, or the end of another's lease


class JobClaims:
    """Claims, renews and finishes the passes of the jobs of one runner (`runner`: host:pid)."""

    def __init__(self, factory: sessionmaker[Session], *, runner: str, now: WallClock = wall_clock) -> None:
        self._factory, self._runner, self._now = factory, runner, now

    def claim(self, name: str, *, interval: float) -> Claimed | NotDue:
        """Claim the job's pass if it is due and nobody holds it; else when it will be."""
        now = self._now()
        token = uuid.uuid4().hex
        with self._factory() as session:
            insert = conflict_insert(session)
            session.execute(insert(JobRun).values(name=name).on_conflict_do_nothing())
            claimed = session.execute(
                update(JobRun)
                .where(
                    JobRun.name == name,
                    or_(JobRun.lease_until.is_(None), JobRun.lease_until <= now),
                    or_(
                        JobRun.finished_at.is_(None), JobRun.finished_at <= now - timedelta(seconds=interval)
                    ),
                )
                .values(runner=self._runner, token=token, started_at=now, lease_until=_lease(now))
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                session.commit()
                return Claimed(token)
            row = session.get(JobRun, name)
            session.commit()
        assert row is not None  # inserted above when missing
        due = [now]  # a pass finished between the UPDATE and this read: look again soon
        if row.finished_at is not None:
            due.append(row.finished_at + timedelta(seconds=interval))
        if row.lease_until is not None:  # another's pass runs: the next is due after it ends
            due.append(row.lease_until)
        return NotDue(due_at=max(due))

    @contextmanager
    def renewed(self, name: str, token: str) -> Iterator[None]:
        """Keep the claim's lease while the body runs (a thread renews it every RENEW_SECONDS)."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(RENEW_SECONDS):
                try:
                    self._set(name, token, lease_until=_lease(self._now()))
                except Exception:  # the pass goes on; a lapsed lease lets another start one, no harm
                    logger.warning("could not renew the claim on job %s", name, exc_info=True)

        renewer = threading.Thread(target=renew, name=f"claim-{name}", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()

    def finish(self, name: str, token: str, *, succeeded: bool) -> None:
        """Give the claim up; a pass that succeeded sets when the next is due."""
        now = self._now()
        if succeeded:
            self._set(name, token, lease_until=None, finished_at=now)
        else:  # due again at once, here at the runner's next tick or on another instance
            self._set(name, token, lease_until=None, failed_at=now)

    def _set(self, name: str, token: str, **values: datetime | None) -> None:
        with self._factory() as session:
            session.execute(update(JobRun).where(JobRun.name == name, JobRun.token == token).values(**values))
            session.commit()


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=LEASE_SECONDS)
