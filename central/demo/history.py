"""Demo history: 60 days of ratings, 差评 follow-ups and absences behind the seeded cases, so the
ratings dashboard, the follow-up pages, the absences and whatever is computed from them (scores,
rankings, last month's report) have a past on first start. Everything goes through the production
services, deterministically (a fixed seed) and relative to today; the signals those paths raise by
themselves (a confirmed absence's) come with them, and the scheduler's pass in
`central.demo.supervision` flags the overdue follow-ups."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from central.calendar.service import load_calendar
from central.core.clock import shanghai_date
from central.demo.history_absences import seed_absences
from central.demo.history_followups import advance_followups
from central.demo.history_ratings import seed_ratings, working_days
from central.demo.supervision import demo_principal
from central.ratings.followup_queries import overdue_clause
from central.ratings.models import FollowUp, Rating
from central.video.models import AbsenceEvent

logger = logging.getLogger(__name__)

HISTORY_DAYS = 60


@dataclass(frozen=True)
class HistorySummary:
    days: int  # working days covered
    ratings: int
    bad: int  # 差评, each with its follow-up
    followups: dict[str, int]  # by status
    overdue: int
    absences: dict[str, int]  # by status

    def line(self) -> str:
        f, a = self.followups, self.absences
        return (
            f"近 {HISTORY_DAYS} 天历史（{self.days} 个工作日）：满意度评价 {self.ratings} 条，差评 {self.bad} 条"
            f"（已办结 {f.get('closed', 0)}、已整改 {f.get('rectified', 0)}、已回访 {f.get('called_back', 0)}、"
            f"待回访 {f.get('open', 0)}，超期 {self.overdue}）；离岗事件已确认 {a.get('confirmed', 0)} 件、"
            f"已排除 {a.get('dismissed', 0)} 件、待核实 {a.get('pending', 0)} 件"
        )


def seed_history(
    session: Session,
    *,
    now: datetime,
    default_profile: str,
    live_hall: str,
    live_windows: int,
    handler: str,
    reviewer: str,
    seed: int = 20261129,
) -> HistorySummary:
    """Seed the history (after the cases and the accounts: `handler` calls back and rectifies 差评,
    `reviewer` closes them and reviews absences) and commit it."""
    rng = random.Random(seed)
    calendar = load_calendar(session)
    days = working_days(calendar, today=shanghai_date(now), days=HISTORY_DAYS)
    seed_ratings(session, rng, days=days, calendar=calendar, default_profile=default_profile)
    handling, reviewing = demo_principal(session, handler), demo_principal(session, reviewer)
    advance_followups(session, rng, handler=handling, reviewer=reviewing, now=now)
    seed_absences(
        session,
        rng,
        hall_code=live_hall,
        windows=live_windows,
        days=days,
        reviewer=reviewing,
        calendar=calendar,
        default_profile=default_profile,
        now=now,
    )
    session.commit()
    summary = summarise(session, days=len(days), now=now)
    logger.info("demo history: %s", summary)
    return summary


def summarise(session: Session, *, days: int, now: datetime) -> HistorySummary:
    followups = _by_status(session, FollowUp.status)
    overdue = session.scalar(
        select(func.count())
        .select_from(FollowUp)
        .join(Rating, Rating.id == FollowUp.rating_id)
        .where(overdue_clause(shanghai_date(now)))
    )
    absences = _by_status(session, AbsenceEvent.status)
    return HistorySummary(
        days=days,
        ratings=session.scalar(select(func.count()).select_from(Rating)) or 0,
        bad=session.scalar(select(func.count()).select_from(FollowUp)) or 0,
        followups=followups,
        overdue=overdue or 0,
        absences=absences,
    )


def _by_status(session: Session, status: InstrumentedAttribute[str]) -> dict[str, int]:
    rows = session.execute(select(status, func.count()).group_by(status))
    return {name: count for name, count in rows}
