"""Scores corrected after an approval changed the past (issue 17 item 3).

An approved case-event void or correction, or an approved 差评 exclusion, changes records that days
already scored counted. The pass finds such approvals (one `ScoreCorrection` per approval: its unique
`approval_id` keeps two instances from booking it twice), and recomputes the hall from the affected
day through the last scored day of that month with the records as they stand now. Subjects whose
figure changed get a new current row; the earlier row stays with the approval as its reason; one
audit entry per correction says how many changed. A closed month changes this way only: through an
approval.

Later months start from their own first day (month totals reset), so a correction stops at the end of
its month; a streak of warnings that ran across the month end is not re-walked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.approvals.models import ApprovalRequest
from central.audit.chain import record
from central.cases.models import CaseEvent
from central.core.actor import Actor
from central.core.clock import shanghai_date
from central.core.db import conflict_insert
from central.ratings.models import Rating
from central.scores.engine import Registry, compute_day
from central.scores.models import ScoreCorrection, ScoreRun
from central.scores.store import rewrite_day
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

CORRECTIONS_ACTOR = Actor(kind="system", name="scores")
CASE_KINDS = ("case_event_void", "case_event_correct")
RATING_KIND = "rating_exclusion"
KIND_LABELS = {
    "case_event_void": "作废办件事件",
    "case_event_correct": "更正办件事件",
    "rating_exclusion": "剔除差评",
}


def detect_corrections(session: Session, *, now: datetime) -> int:
    """Book a correction for every approved change of the past not booked yet; commits."""
    booked = select(ScoreCorrection.approval_id).where(ScoreCorrection.approval_id.is_not(None))
    approvals = session.scalars(
        select(ApprovalRequest)
        .where(
            ApprovalRequest.status == "approved",
            ApprovalRequest.kind.in_([*CASE_KINDS, RATING_KIND]),
            ApprovalRequest.id.not_in(booked),
        )
        .order_by(ApprovalRequest.id)
    ).all()
    rows = [row for row in (_correction_of(session, approval, now=now) for approval in approvals) if row]
    if rows:
        dialect_insert = conflict_insert(session)
        session.execute(
            dialect_insert(ScoreCorrection)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["approval_id"])
        )
    session.commit()
    return len(rows)


LATE_WINDOW_DAYS = 7  # how far back late uploads are looked for (an edge outbox drained after an outage)


def detect_late_ratings(session: Session, *, now: datetime) -> int:
    """Book a correction for each hall and scored day that ratings reached after the day was scored
    (an edge agent's outbox drained after a drop): the day is recomputed with them. A later arrival
    after that correction books another. Commits."""
    last = session.scalar(select(func.max(ScoreRun.day)))
    if last is None:
        return 0
    since = last - timedelta(days=LATE_WINDOW_DAYS)
    late = session.execute(
        select(Rating.hall_id, Rating.rated_on, func.count(Rating.id), func.max(Rating.updated_at))
        .join(ScoreRun, ScoreRun.day == Rating.rated_on)
        .where(Rating.rated_on >= since, Rating.updated_at > ScoreRun.finished_at)
        .group_by(Rating.hall_id, Rating.rated_on)
    ).all()
    # Corrections that may cover them, read once (not one query per hall and day on every pass).
    requested: dict[int, list[tuple[date, datetime]]] = {}
    if late:
        for hall_id, day, at in session.execute(
            select(ScoreCorrection.hall_id, ScoreCorrection.day, ScoreCorrection.requested_at).where(
                ScoreCorrection.hall_id.in_(sorted({row[0] for row in late})),
                ScoreCorrection.requested_at >= min(row[3] for row in late),
            )
        ):
            requested.setdefault(hall_id, []).append((day, at))
    booked = 0
    for hall_id, day, count, newest in late:
        # A correction of the hall from that day or earlier, asked for after the newest arrival.
        if not any(first <= day and at >= newest for first, at in requested.get(hall_id, [])):
            reason = f"迟到数据：{count} 条 {day.isoformat()} 的评价在当日计分后到达"
            session.add(ScoreCorrection(hall_id=hall_id, day=day, reason=reason, requested_at=now))
            booked += 1
    session.commit()
    return booked


def _correction_of(session: Session, approval: ApprovalRequest, *, now: datetime) -> dict[str, Any] | None:
    result: dict[str, Any] = json.loads(approval.result or "{}")
    found: tuple[int, date] | None = None
    if approval.kind == RATING_KIND and result.get("rating_id") is not None:
        rating = session.get(Rating, int(result["rating_id"]))
        found = None if rating is None else (rating.hall_id, rating.rated_on)
    elif approval.kind in CASE_KINDS:
        event = session.scalar(select(CaseEvent).where(CaseEvent.event_id == approval.target_id))
        if event is not None:
            found = (event.case.hall_id, shanghai_date(event.at))
    if found is None:
        logger.warning("scores: approval #%s (%s) names nothing to correct", approval.id, approval.kind)
        return None
    hall_id, day = found
    label = KIND_LABELS.get(approval.kind, approval.kind)
    return {
        "hall_id": hall_id,
        "day": day,
        "reason": f"审批 #{approval.id}（{label}）：{approval.reason}",
        "approval_id": approval.id,
        "requested_at": now,
    }


def apply_corrections(
    session: Session, *, now: datetime, calendar: WorkCalendar, default_profile_key: str
) -> int:
    """Recompute what every pending correction names; one commit per correction."""
    pending = session.scalars(
        select(ScoreCorrection.id).where(ScoreCorrection.done_at.is_(None)).order_by(ScoreCorrection.id)
    ).all()
    done = 0
    for correction_id in pending:
        query = select(ScoreCorrection).where(
            ScoreCorrection.id == correction_id, ScoreCorrection.done_at.is_(None)
        )
        correction = session.scalar(query.with_for_update(skip_locked=True))
        if correction is None:  # another instance has it
            session.rollback()
            continue
        changed = recompute(
            session,
            hall_ids=[correction.hall_id],
            first_day=correction.day,
            now=now,
            calendar=calendar,
            default_profile_key=default_profile_key,
            reason=correction.reason,
        )
        correction.done_at, correction.changed = now, changed
        record(
            session,
            actor=CORRECTIONS_ACTOR,
            action="score.recompute",
            target_type="score_correction",
            target_id=str(correction.id),
            after={
                "hall_id": correction.hall_id,
                "from": correction.day.isoformat(),
                "approval_id": correction.approval_id,
                "changed": changed,
                "reason": correction.reason,
            },
            at=now,
        )
        session.commit()
        done += 1
    return done


def recompute(
    session: Session,
    *,
    hall_ids: Collection[int] | None,
    first_day: date,
    now: datetime,
    calendar: WorkCalendar,
    default_profile_key: str,
    reason: str,
) -> int:
    """Recompute scored days from `first_day` through the last scored day of its month (records as
    they stand at `now`); answers how many subject-days changed. Does not commit."""
    month_end = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    last = session.scalar(
        select(func.max(ScoreRun.day)).where(ScoreRun.day >= first_day, ScoreRun.day <= month_end)
    )
    if last is None:
        return 0
    changed = 0
    day = first_day
    registry = Registry(session, default_profile_key=default_profile_key, hall_ids=hall_ids, subject=None)
    while day <= last:
        scores = compute_day(
            session,
            day=day,
            as_of=now,
            calendar=calendar,
            default_profile_key=default_profile_key,
            hall_ids=hall_ids,
            registry=registry,
        )
        changed += rewrite_day(session, scores, computed_at=now, reason=reason)
        session.flush()
        day += timedelta(days=1)
    logger.info(
        "scores recomputed from %s to %s: %d subject-day(s) changed (%s)", first_day, last, changed, reason
    )
    return changed
