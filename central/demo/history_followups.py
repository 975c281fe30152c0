"""Demo history, 差评 follow-ups: the follow-ups the ratings opened, taken through their steps by the
production services (`record_callback`, `record_rectification`, `close_followup`) at the moments
they happened — most called back, rectified and closed; some recent ones still open or called
back; a few old ones left unrectified past their deadline (overdue: the signal scheduler flags them)."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.core.clock import to_utc
from central.ratings.followups import close_followup, record_callback, record_rectification
from central.ratings.models import FollowUp, Rating
from central.ratings.schemas import CallbackIn, CloseIn, RectifyIn

logger = logging.getLogger(__name__)

CALLBACK_RESULTS = [
    "群众反映等候时间较长，已致歉并说明高峰时段可网上预约",
    "群众对一次性告知不清楚表示不满，已重新解释所需材料",
    "群众误按评价键，表示对服务满意",
    "群众反映窗口人员解释不耐心，已致歉",
]
RECTIFICATIONS = [
    "已对窗口人员进行服务规范提醒谈话，并纳入月度考核",
    "已修订一次性告知单，张贴于窗口",
    "高峰时段增开窗口，推广网上预约",
    "组织窗口人员开展服务礼仪培训",
]
# What became of a follow-up, by how far the citizen's 差评 lies back: (step reached, weight).
OLD_FATES = [(3, 60), (2, 20), (1, 12), (0, 8)]  # steps done: 3 closed … 0 untouched (overdue when old)
RECENT_FATES = [(2, 25), (1, 40), (0, 35)]


def advance_followups(
    session: Session,
    rng: random.Random,
    *,
    handler: Principal,
    reviewer: Principal,
    now: datetime,
) -> None:
    """Take every open follow-up as far as its fate says, each step at its own (past) moment."""
    rows = session.execute(
        select(FollowUp.id, Rating.rated_at)
        .join(Rating, Rating.id == FollowUp.rating_id)
        .where(FollowUp.status == "open")
        .order_by(FollowUp.id)
    ).all()
    for followup_id, rated_at in rows:
        at = to_utc(rated_at)
        fates = OLD_FATES if now - at > timedelta(days=21) else RECENT_FATES
        steps = rng.choices([f for f, _ in fates], weights=[w for _, w in fates])[0]
        at += timedelta(hours=rng.randint(2, 30))
        if steps < 1 or at >= now:
            continue
        body = CallbackIn(result=rng.choice(CALLBACK_RESULTS), called_by="窗口负责人", called_at=at)
        record_callback(session, principal=handler, followup_id=followup_id, body=body, now=at)
        at += timedelta(days=rng.randint(1, 8), hours=rng.randint(0, 6))
        if steps < 2 or at >= now:
            continue
        rectify = RectifyIn(rectification=rng.choice(RECTIFICATIONS))
        record_rectification(session, principal=handler, followup_id=followup_id, body=rectify, now=at)
        at += timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 6))
        if steps < 3 or at >= now:
            continue
        rerating = rng.choice([None, 4, 5, 5, 3])
        close = CloseIn(rerating_level=rerating)
        close_followup(session, principal=reviewer, followup_id=followup_id, body=close, now=at)
    session.flush()
