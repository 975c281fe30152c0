"""Overdue follow-ups raise signals (HCP): a 差评 not rectified by its last working day gets one
yellow signal, reason ``followup_overdue`` (差评整改超期), origin ``followup``, with
``dedupe_key = 'followup:<follow-up id>'``.

A source of the signal scheduler (`central.signals.scheduler.run_signals`, given
`RATINGS_SIGNAL_SOURCES` by its callers: ratings sit above signals), run in its transaction, so it
shares the scheduler's guarantees: the insert is ``ON CONFLICT (dedupe_key) DO NOTHING``, a second
run (or a second instance at the same time) adds nothing, and the run's audit entry carries the
count. Like every computed signal it is derived data and gets no audit entry of its own.

* The signal is placed at the follow-up's department (`FollowUp.department_id`: the rating's, else
  its window's, else its staff member's — `central.ratings.followups.department_of`). A follow-up
  with no department at all gets no signal (signals need one): it is logged and counted as skipped,
  and stays visible as overdue on the follow-up pages of the hall.
* Its `correct_by` is the hall profile's `signals.yellow_correct_within_workdays` after today, like
  every yellow (SZ-11): not corrected by then, the scheduler turns it red.
* Follow-ups opened while the calendar lacked a year have no deadline; each run first fills in
  those the calendar now covers.
* A follow-up still untouched (open) whose rating a correction turned back into a good level is
  withdrawn first (`central.ratings.followups.withdraw_followup`, audited): there is no 差评 left.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import String, Table, exists, literal, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from central.core.db import conflict_insert
from central.profiles.assignment import hall_profile_keys
from central.ratings.figures import bad_threshold
from central.ratings.followup_queries import overdue_clause
from central.ratings.followups import rectify_due, withdraw_followup
from central.ratings.labels import UNRECTIFIED, FollowUpStatus
from central.ratings.models import FollowUp, Rating
from central.signals.lifecycle import SignalStatus
from central.signals.models import Signal
from central.signals.reasons import Color, Origin
from central.signals.scheduler import FOLLOWUP_OVERDUE, SignalSource
from central.signals.transitions import SIGNALS_ACTOR
from common.profiles.loader import get_profile
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)

REASON_CODE = "followup_overdue"
CHUNK = 500
_signals = cast(Table, Signal.__table__)


def dedupe_key(followup_id: int) -> str:
    return f"followup:{followup_id}"


def fill_missing_deadlines(
    session: Session, *, calendar: WorkCalendar, keys: dict[int, str], default_profile: str
) -> int:
    """Give a deadline to unrectified follow-ups that had none because a calendar year was missing."""
    rows = session.execute(
        select(FollowUp.id, FollowUp.hall_id, Rating.rated_on)
        .join(Rating, Rating.id == FollowUp.rating_id)
        .where(FollowUp.rectify_due.is_(None), FollowUp.status.in_(sorted(UNRECTIFIED)))
        .order_by(FollowUp.id)
    ).all()
    filled = 0
    for followup_id, hall_id, rated_on in rows:
        workdays = get_profile(keys.get(hall_id, default_profile)).ratings.rectify_within_workdays
        due = rectify_due(calendar, rated_on, workdays)
        if due is not None:
            session.execute(
                update(FollowUp)
                .where(FollowUp.id == followup_id, FollowUp.rectify_due.is_(None))
                .values(rectify_due=due)
            )
            filled += 1
    if filled:
        logger.info("filled in %d rectification deadlines now that the calendar covers them", filled)
    return filled


def withdraw_corrected(session: Session, *, keys: dict[int, str], default_profile: str, now: datetime) -> int:
    """Withdraw untouched follow-ups whose rating is no 差评 any more (corrected to a good level)."""
    threshold = bad_threshold(session, default_profile=default_profile)
    ratings = session.scalars(
        select(Rating)
        .join(FollowUp, FollowUp.rating_id == Rating.id)
        .where(FollowUp.status == FollowUpStatus.OPEN.value, Rating.level > threshold)
        .order_by(Rating.id)
    ).all()
    withdrawn = 0
    for rating in ratings:
        profile = get_profile(keys.get(rating.hall_id, default_profile))
        withdrawn += withdraw_followup(session, rating=rating, profile=profile, now=now)
    if withdrawn:
        logger.info("withdrew %d follow-ups of ratings corrected to a good level", withdrawn)
    return withdrawn


def _correct_by(calendar: WorkCalendar, today: date, key: str) -> date | None:
    workdays = get_profile(key).signals.yellow_correct_within_workdays
    try:
        return calendar.add_workdays(today, workdays)
    except CalendarMissingError as exc:
        logger.warning(
            "no correction deadline for follow-up signals of %s: years %s missing", today, exc.years
        )
        return None


def raise_overdue_followup_signals(
    session: Session,
    *,
    today: date,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> int:
    """One yellow signal per follow-up not rectified by its deadline (as of `today`, Shanghai);
    returns how many were new. Does not commit (the scheduler's run does)."""
    keys = hall_profile_keys(session, default_key=default_profile)
    withdraw_corrected(session, keys=keys, default_profile=default_profile, now=now)
    fill_missing_deadlines(session, calendar=calendar, keys=keys, default_profile=default_profile)
    has_signal = exists().where(_signals.c.dedupe_key == literal("followup:") + sql_cast(FollowUp.id, String))
    candidates = session.execute(
        select(
            FollowUp.id,
            FollowUp.hall_id,
            FollowUp.department_id,
            FollowUp.rectify_due,
            Rating.id,
            Rating.case_id,
        )
        .join(Rating, Rating.id == FollowUp.rating_id)
        .where(overdue_clause(today), ~has_signal)
        .order_by(FollowUp.id)
    ).all()
    rows: list[dict[str, Any]] = []
    skipped = 0
    deadlines: dict[str, date | None] = {}
    for followup_id, hall_id, department_id, due, rating_id, case_id in candidates:
        if department_id is None:
            skipped += 1
            continue
        key = keys.get(hall_id, default_profile)
        if key not in deadlines:
            deadlines[key] = _correct_by(calendar, today, key)
        rows.append(
            _row(
                followup_id=followup_id,
                hall_id=hall_id,
                department_id=department_id,
                case_id=case_id,
                reason=f"差评 #{rating_id} 的整改期限 {due.isoformat() if due else '—'} 已过，尚未整改（回访整改 #{followup_id}）",
                correct_by=deadlines[key],
                today=today,
                now=now,
            )
        )
    if skipped:
        logger.warning("%d overdue follow-ups have no department: no signal for them", skipped)
    issued = sum(_insert(session, rows[start : start + CHUNK]) for start in range(0, len(rows), CHUNK))
    if issued:
        logger.info("%d overdue follow-ups raised signals as of %s", issued, today)
    return issued


def _row(
    *,
    followup_id: int,
    hall_id: int,
    department_id: int,
    case_id: int | None,
    reason: str,
    correct_by: date | None,
    today: date,
    now: datetime,
) -> dict[str, Any]:
    return {
        "color": Color.YELLOW.value,
        "initial_color": Color.YELLOW.value,
        "origin": Origin.FOLLOWUP.value,
        "reason_code": REASON_CODE,
        "reason": reason,
        "dedupe_key": dedupe_key(followup_id),
        "case_id": case_id,
        "hall_id": hall_id,
        "department_id": department_id,
        "status": SignalStatus.ISSUED.value,
        "issued_at": now,
        "issued_on": today,
        "issued_by": SIGNALS_ACTOR.label,  # the scheduler issues it, like every computed signal
        "correct_by": correct_by,
        "updated_at": now,
    }


def _insert(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect_insert = conflict_insert(session)
    statement = dialect_insert(_signals).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = cast(CursorResult[Any], session.execute(statement.execution_options(preserve_rowcount=True)))
    return max(result.rowcount, 0)


# What the signal pass computes for ratings, by the name its count is audited under.
RATINGS_SIGNAL_SOURCES: dict[str, SignalSource] = {FOLLOWUP_OVERDUE: raise_overdue_followup_signals}

__all__ = [
    "RATINGS_SIGNAL_SOURCES",
    "REASON_CODE",
    "dedupe_key",
    "fill_missing_deadlines",
    "raise_overdue_followup_signals",
    "withdraw_corrected",
]
