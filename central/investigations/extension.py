"""The `investigation_extension` approval kind (SC-9): one extension of at most 10 working days,
and only with approval. The assignee asks; someone else at the bureau covering the hall decides;
the due date moves only when the request is approved."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from central.access.deps import Principal
from central.approvals.kinds import (
    ApprovalKind,
    KindContext,
    Level,
    Prepared,
    bad_payload,
    conflict,
    not_found,
    payload_of,
    register_kind,
)
from central.approvals.models import ApprovalRequest
from central.cases.service import describe_validation
from central.investigations.models import Investigation
from central.investigations.service import (
    OPEN,
    InvestigationConflict,
    InvestigationNotFound,
    extend_investigation,
    visible_investigation,
)
from central.profiles.assignment import profile_for_hall
from central.registry.jurisdiction import ScopeKind, jurisdiction_of
from common.profiles.loader import get_profile

logger = logging.getLogger(__name__)

KIND = "investigation_extension"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(ge=1, le=60, description="Working days to add (the profile caps it, SC-9: 10).")


def _limits(ctx: KindContext, investigation: Investigation) -> tuple[int, int]:
    if investigation.hall_id is None:
        profile = get_profile(ctx.default_profile_key)
    else:
        profile = profile_for_hall(
            ctx.session, hall_id=investigation.hall_id, default_key=ctx.default_profile_key
        )
    return profile.investigations.extension_max_times, profile.investigations.extension_max_workdays


def _check_extendable(ctx: KindContext, investigation: Investigation, days: int) -> None:
    max_times, max_days = _limits(ctx, investigation)
    if investigation.status != OPEN:
        raise conflict(f"investigation #{investigation.id} already reported", "该调查已报告，无需延期。")
    if investigation.extensions >= max_times:
        raise conflict(
            f"investigation #{investigation.id} was already extended {investigation.extensions} time(s); the limit is {max_times}",
            f"该调查已延期 {investigation.extensions} 次，最多只能延期 {max_times} 次。",
        )
    if days > max_days:
        raise bad_payload(
            f"an extension adds at most {max_days} working days, not {days}",
            f"延期最长 {max_days} 个工作日。",
        )


def _prepare(ctx: KindContext, *, requester: Principal, target: str, payload: dict[str, Any]) -> Prepared:
    if not target.isdigit() or len(target) > 18:
        raise not_found(f"no investigation {target[:40]!r}", "找不到该调查。")
    try:
        investigation = visible_investigation(
            ctx.session, investigation_id=int(target), within=requester.jurisdiction
        )
    except InvestigationNotFound as exc:
        raise not_found(str(exc), "找不到该调查。") from exc
    assignee = jurisdiction_of(
        ctx.session,
        kind=ScopeKind(investigation.assignee_scope_kind),
        scope_id=investigation.assignee_scope_id,
    )
    if not assignee.contains(requester.jurisdiction):
        raise not_found(
            f"investigation #{investigation.id} is not assigned to you", "该调查不是交由您办理的。"
        )
    try:
        days = _Payload.model_validate(payload).days
    except ValidationError as exc:
        raise bad_payload(describe_validation(exc), "延期天数应为 1 至 10 个工作日。") from exc
    _check_extendable(ctx, investigation, days)
    return Prepared(
        hall_id=investigation.hall_id,
        department_id=investigation.department_id,
        target_id=str(investigation.id),
        payload={"days": days},
    )


def _apply(ctx: KindContext, request: ApprovalRequest) -> dict[str, Any]:
    investigation = ctx.session.get(Investigation, int(request.target_id))
    if investigation is None:
        raise not_found(f"investigation #{request.target_id} no longer exists", "该调查已不存在。")
    days = int(payload_of(request)["days"])
    _check_extendable(ctx, investigation, days)  # it may have been reported or extended meanwhile
    before = investigation.due_date
    try:
        extend_investigation(
            ctx.session,
            investigation=investigation,
            days=days,
            calendar=ctx.calendar,
            actor=ctx.actor,
            now=ctx.now,
        )
    except InvestigationConflict as exc:
        raise conflict(str(exc), "工作日历缺少所需年份，无法计算延期后的期限，请先录入日历。") from exc
    return {
        "due_date_before": before.isoformat(),
        "due_date": investigation.due_date.isoformat(),
        "days": days,
    }


register_kind(
    ApprovalKind(
        name=KIND,
        label="调查延期",
        target_type="investigation",
        level=Level.LOCAL,
        prepare=_prepare,
        apply=_apply,
    )
)
