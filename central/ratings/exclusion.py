"""Excluding a mistaken or malicious 差评 (HCP) — only through an approval (SC-18), never deleted.

The approval kind ``rating_exclusion`` (target: the rating id; payload ``{}``) is decided at the
provincial level: SC-18 has modifying important data approved by the province, and a rating is
what satisfaction scores and published results are computed from. When approved, the rating gets
``excluded = True`` and ``excluded_by_approval_id``: it drops out of every figure
(`central.ratings.figures`) but stays on record and in every list, marked 已剔除; its follow-up
takes no more steps and raises no overdue signal.

Only a 差评 (level ≤ the hall profile's bad_max_level) can be excluded; one already excluded
answers 409, both when asked and again when approved.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.approvals.kinds import (
    ApprovalKind,
    KindContext,
    Level,
    Prepared,
    bad_payload,
    conflict,
    not_found,
    register_kind,
)
from central.approvals.models import ApprovalRequest
from central.approvals.schemas import ApprovalOut
from central.approvals.service import create_request
from central.audit.chain import record
from central.profiles.assignment import profile_for_hall
from central.ratings.followups import is_bad
from central.ratings.labels import level_label
from central.ratings.models import Rating
from central.registry.jurisdiction import Jurisdiction
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

KIND = "rating_exclusion"
TARGET_TYPE = "rating"
MAX_ID = 2_147_483_647


class ExclusionPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")


def find_rating(session: Session, *, target: str, within: Jurisdiction | None, lock: bool = False) -> Rating:
    """The rating named by `target` (its id); 404 when missing or outside `within` (None: trusted)."""
    text = target.strip()
    missing = not_found(f"no rating {text[:40]}", f"没有编号为“{text[:40]}”的评价，或不在您的辖区内。")
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or not 1 <= int(text) <= MAX_ID:
        raise missing
    query = select(Rating).where(Rating.id == int(text))
    if within is not None:
        query = query.where(within.clause(hall_id=Rating.hall_id, department_id=Rating.department_id))
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    rating = session.scalar(query)
    if rating is None:
        raise missing
    return rating


def _check_excludable(ctx: KindContext, rating: Rating) -> None:
    if rating.excluded:
        raise conflict(
            f"rating #{rating.id} is already excluded (approval #{rating.excluded_by_approval_id})",
            f"评价 #{rating.id} 已经剔除（审批 #{rating.excluded_by_approval_id}）。",
        )
    profile = profile_for_hall(ctx.session, hall_id=rating.hall_id, default_key=ctx.default_profile_key)
    if not is_bad(rating.level, profile):
        raise conflict(
            f"rating #{rating.id} (level {rating.level}) is not a 差评; only 差评 can be excluded",
            f"评价 #{rating.id}（{level_label(rating.level)}）不是差评，只有差评可以申请剔除。",
        )


def _prepare(ctx: KindContext, *, requester: Principal, target: str, payload: dict[str, Any]) -> Prepared:
    try:
        ExclusionPayload.model_validate(payload)
    except ValidationError as exc:
        raise bad_payload("payload must be {} for rating_exclusion", "剔除申请不需要附加内容。") from exc
    rating = find_rating(ctx.session, target=target, within=requester.jurisdiction)
    _check_excludable(ctx, rating)
    return Prepared(
        hall_id=rating.hall_id, department_id=rating.department_id, target_id=str(rating.id), payload={}
    )


def _apply(ctx: KindContext, request: ApprovalRequest) -> dict[str, Any]:
    rating = find_rating(ctx.session, target=request.target_id, within=None, lock=True)
    _check_excludable(ctx, rating)
    before = {"excluded": rating.excluded, "excluded_by_approval_id": rating.excluded_by_approval_id}
    rating.excluded = True
    rating.excluded_by_approval_id = request.id
    rating.updated_at = ctx.now
    ctx.session.flush()
    record(
        ctx.session,
        actor=ctx.actor,
        action="rating.exclude",
        target_type=TARGET_TYPE,
        target_id=str(rating.id),
        before=before,
        after={
            "excluded": True,
            "excluded_by_approval_id": request.id,
            "level": rating.level,
            "reason": request.reason,
        },
        at=ctx.now,
    )
    logger.info("approval #%s excluded rating #%s", request.id, rating.id)
    return {"rating_id": rating.id, "excluded": True}


RATING_EXCLUSION = register_kind(
    ApprovalKind(
        name=KIND,
        label="剔除差评",
        target_type=TARGET_TYPE,
        level=Level.PROVINCE,
        prepare=_prepare,
        apply=_apply,
    )
)


def request_exclusion(
    session: Session,
    *,
    requester: Principal,
    rating_id: int,
    reason: str,
    now: datetime,
    calendar: WorkCalendar,
    default_profile_key: str,
) -> ApprovalOut:
    """Ask for the exclusion of one 差评 (committed as a pending approval request; nothing changes
    until someone else with provincial scope approves it). Raises `ApprovalError`."""
    return create_request(
        session,
        requester=requester,
        kind=KIND,
        target=str(rating_id),
        payload={},
        reason=reason,
        now=now,
        calendar=calendar,
        default_profile_key=default_profile_key,
    )


def pending_exclusion(session: Session, *, rating_id: int) -> int | None:
    """The id of a pending exclusion request for this rating, if any."""
    return session.scalar(
        select(ApprovalRequest.id)
        .where(
            ApprovalRequest.kind == KIND,
            ApprovalRequest.target_id == str(rating_id),
            ApprovalRequest.status == "pending",
        )
        .order_by(ApprovalRequest.id)
        .limit(1)
    )


__all__ = ["KIND", "RATING_EXCLUSION", "find_rating", "pending_exclusion", "request_exclusion"]
