"""Approval kinds that change a case's history after the fact (SC-18: provincial approval).

* ``case_event_void`` — target: an event_id; payload: ``{}``. On approval a `CaseEventVoid` row is
  added: the event stays in the append-only log (QTH-1) and every replay skips it.
* ``case_event_correct`` — target: an event_id; payload: ``{"replacement": <CaseEventIn>}`` for the
  same case. On approval the event is voided and the replacement stored as a new event.

Both re-check, when asked and again when approved, that the remaining history is possible and not
empty (otherwise 409 and nothing changes), and recompute the case projection at once.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.approvals.kinds import (
    ApprovalError,
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
from central.audit.chain import record
from central.cases.ingest import content_hash
from central.cases.lifecycle import CaseState, EventFact, TransitionError, replay
from central.cases.models import Case, CaseEvent, CaseEventVoid
from central.cases.projection import apply_projection, event_voids, fact_of, live_events, policy_of
from central.cases.references import load_refs, reference_problem
from central.cases.schemas import CODE, CaseEventIn
from central.cases.service import describe_validation
from central.core.clock import to_utc
from central.profiles.assignment import profile_for_hall
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Hall, Item

logger = logging.getLogger(__name__)

_CODE = re.compile(CODE)
VOID = "case_event_void"
CORRECT = "case_event_correct"
TARGET_TYPE = "case_event"


class VoidPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorrectPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    replacement: CaseEventIn


def _parse(model: type[BaseModel], payload: dict[str, Any]) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise bad_payload(
            f"payload: {describe_validation(exc)}", f"申请内容有误：{describe_validation(exc)}"
        ) from exc


def find_event(
    session: Session, *, event_id: str, within: Jurisdiction | None, lock: bool = False
) -> tuple[CaseEvent, Case]:
    """The event and its case; 404 when missing or outside `within` (None: trusted, when applying)."""
    missing = not_found(f"no case event {event_id}", f"没有事件“{event_id[:100]}”，或不在您的辖区内。")
    if len(event_id) > 100 or not _CODE.fullmatch(event_id):
        raise missing
    event = session.scalar(select(CaseEvent).where(CaseEvent.event_id == event_id))
    if event is None:
        raise missing
    query = select(Case).where(Case.id == event.case_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # applying: serialise with ingest and other approvals
    case = session.scalar(query)
    assert case is not None
    if within is not None and not within.covers_case(hall_id=case.hall_id, department_id=case.department_id):
        raise missing
    return event, case


def void_of(session: Session, event: CaseEvent) -> int | None:
    """The approval that voided the event, if one did."""
    return session.scalar(select(CaseEventVoid.approval_id).where(CaseEventVoid.event_id == event.id))


def _not_voided(session: Session, event: CaseEvent) -> None:
    approval_id = void_of(session, event)
    if approval_id is not None:
        raise conflict(
            f"event {event.event_id} was already voided by approval #{approval_id}",
            f"事件“{event.event_id}”已由审批 #{approval_id} 作废。",
        )


def _remaining(ctx: KindContext, case: Case, event: CaseEvent, replacement: CaseEventIn | None) -> CaseState:
    """The case's state without `event` (and with `replacement`), or 409 naming why it is impossible."""
    voids = event_voids(ctx.session, case_ids=[case.id])
    facts = [fact_of(e) for e in live_events(case, voided=voids) if e.id != event.id]
    if replacement is not None:
        added = EventFact(
            type=replacement.type,
            at=to_utc(replacement.at),
            days=replacement.days,
            reason=replacement.reason,
            event_id=replacement.event_id,
        )
        facts = sorted([*facts, added], key=lambda f: f.at)  # stable: stored events first on ties
    if not facts:
        raise conflict(
            f"voiding {event.event_id} would leave case {case.case_no} without events",
            f"作废事件“{event.event_id}”后办件 {case.case_no} 将没有任何事件，不能作废。",
        )
    profile = profile_for_hall(ctx.session, hall_id=case.hall_id, default_key=ctx.default_profile_key)
    try:
        return replay(facts, policy=policy_of(profile))
    except TransitionError as exc:
        at = f" (at event {exc.event_id})" if exc.event_id else ""
        raise conflict(
            f"without event {event.event_id} the history of case {case.case_no} is impossible{at}: {exc.reason}",
            f"作废事件“{event.event_id}”后办件 {case.case_no} 的办理过程不成立{at}：{exc.reason}",
        ) from exc


def _check_replacement(ctx: KindContext, case: Case, replacement: CaseEventIn) -> None:
    """The replacement belongs to the same case and names things that exist (422 otherwise)."""
    session = ctx.session
    hall = session.get(Hall, case.hall_id)
    item = session.get(Item, case.item_id)
    assert hall is not None and item is not None
    problems: list[str] = []
    if replacement.case_no != case.case_no:
        problems.append(f"replacement.case_no must be {case.case_no} (the same case)")
    if replacement.hall_code != hall.code or replacement.item_code != item.code:
        problems.append(f"replacement must keep hall_code {hall.code} and item_code {item.code}")
    if session.scalar(select(CaseEvent.id).where(CaseEvent.event_id == replacement.event_id)):
        problems.append(f"event_id {replacement.event_id} is already stored; a replacement needs a new one")
    # Window and staff as the event push checks them: in the case's hall (a staff code of another
    # hall reads as unknown), then the calendar year and the clock.
    refs = load_refs(session, [replacement], within=None)
    problem = reference_problem(replacement, refs, ctx.calendar, ctx.now)
    if problem:
        problems.append(problem)
    if problems:
        text = "; ".join(problems)
        raise bad_payload(text, f"替代事件有误：{text}")


def _prepare_void(
    ctx: KindContext, *, requester: Principal, target: str, payload: dict[str, Any]
) -> Prepared:
    _parse(VoidPayload, payload)
    event, case = find_event(ctx.session, event_id=target, within=requester.jurisdiction)
    _not_voided(ctx.session, event)
    _remaining(ctx, case, event, None)
    return Prepared(
        hall_id=case.hall_id, department_id=case.department_id, target_id=event.event_id, payload={}
    )


def _prepare_correct(
    ctx: KindContext, *, requester: Principal, target: str, payload: dict[str, Any]
) -> Prepared:
    parsed: CorrectPayload = _parse(CorrectPayload, payload)
    event, case = find_event(ctx.session, event_id=target, within=requester.jurisdiction)
    _not_voided(ctx.session, event)
    _check_replacement(ctx, case, parsed.replacement)
    _remaining(ctx, case, event, parsed.replacement)
    return Prepared(
        hall_id=case.hall_id,
        department_id=case.department_id,
        target_id=event.event_id,
        payload={"replacement": parsed.replacement.model_dump(mode="json", exclude_none=True)},
    )


def projection_snapshot(case: Case) -> dict[str, Any]:
    """The projected columns an audit entry shows before and after a change."""
    return {
        "status": case.status,
        "accepted_on": case.accepted_on,
        "closed_on": case.closed_on,
        "extension_days": case.extension_days,
        "promised_due_date": case.promised_due_date,
        "legal_due_date": case.legal_due_date,
        "paused_since": case.paused_since,
        "calendar_missing": case.calendar_missing,
    }


def _refresh_people(session: Session, case: Case) -> None:
    """Window, staff and applicant of the case as its counted events give them."""
    live = live_events(case, voided=event_voids(session, case_ids=[case.id]))
    case.window_id = next((e.window_id for e in live if e.window_id), None)
    case.staff_id = next((e.staff_id for e in reversed(live) if e.staff_id), None)
    case.applicant_name = next((e.applicant_name for e in live if e.applicant_name), None)
    case.event_count = len(case.events)
    case.last_event_at = max(e.at for e in case.events)


def _void(ctx: KindContext, request: ApprovalRequest, case: Case, event: CaseEvent, state: CaseState) -> None:
    ctx.session.add(
        CaseEventVoid(event_id=event.id, approval_id=request.id, voided_at=ctx.now, reason=request.reason)
    )
    ctx.session.flush()
    apply_projection(case, state, calendar=ctx.calendar)


def _apply_void(ctx: KindContext, request: ApprovalRequest) -> dict[str, Any]:
    event, case = find_event(ctx.session, event_id=request.target_id, within=None, lock=True)
    _not_voided(ctx.session, event)
    state = _remaining(ctx, case, event, None)
    before = projection_snapshot(case)
    _void(ctx, request, case, event, state)
    _refresh_people(ctx.session, case)
    ctx.session.flush()
    after = {**projection_snapshot(case), "voided_event_id": event.event_id, "approval_id": request.id}
    record(
        ctx.session,
        actor=ctx.actor,
        action="case_event.void",
        target_type="case",
        target_id=case.case_no,
        before=before,
        after=after,
        at=ctx.now,
    )
    logger.info("approval #%s voided event %s of case %s", request.id, event.event_id, case.case_no)
    return {"case_no": case.case_no, "voided_event_id": event.event_id, "status": case.status}


def _stored_replacement(
    ctx: KindContext, request: ApprovalRequest, case: Case, data: CaseEventIn
) -> CaseEvent:
    hall = ctx.session.get(Hall, case.hall_id)
    assert hall is not None
    refs = load_refs(ctx.session, [data], within=None)  # checked when asked; in the case's hall
    window = refs.windows.get((hall.id, data.window_code)) if data.window_code else None
    staff = refs.staff.get((hall.id, data.staff_code)) if data.staff_code else None
    return CaseEvent(
        event_id=data.event_id,
        case_id=case.id,
        type=data.type.value,
        at=to_utc(data.at),
        window_id=window.id if window else None,
        staff_id=staff.id if staff else None,
        applicant_name=data.applicant_name,
        days=data.days,
        reason=data.reason,
        content_hash=content_hash(data),
        source=f"approval:{request.id}",
        recorded_at=ctx.now,
    )


def _apply_correct(ctx: KindContext, request: ApprovalRequest) -> dict[str, Any]:
    data = CaseEventIn.model_validate(payload_of(request)["replacement"])
    event, case = find_event(ctx.session, event_id=request.target_id, within=None, lock=True)
    _not_voided(ctx.session, event)
    try:
        _check_replacement(ctx, case, data)
    except ApprovalError as exc:  # the registry or the log moved since the request was made
        raise conflict(f"the replacement can no longer be stored: {exc.detail}", exc.zh) from exc
    state = _remaining(ctx, case, event, data)
    before = projection_snapshot(case)
    _void(ctx, request, case, event, state)
    case.events.append(_stored_replacement(ctx, request, case, data))
    ctx.session.flush()
    _refresh_people(ctx.session, case)
    after = {
        **projection_snapshot(case),
        "voided_event_id": event.event_id,
        "replacement_event_id": data.event_id,
        "approval_id": request.id,
    }
    record(
        ctx.session,
        actor=ctx.actor,
        action="case_event.correct",
        target_type="case",
        target_id=case.case_no,
        before=before,
        after=after,
        at=ctx.now,
    )
    logger.info(
        "approval #%s replaced event %s of case %s by %s",
        request.id,
        event.event_id,
        case.case_no,
        data.event_id,
    )
    return {
        "case_no": case.case_no,
        "voided_event_id": event.event_id,
        "replacement_event_id": data.event_id,
        "status": case.status,
    }


register_kind(
    ApprovalKind(
        name=VOID,
        label="作废办件事件",
        target_type=TARGET_TYPE,
        level=Level.PROVINCE,
        prepare=_prepare_void,
        apply=_apply_void,
    )
)
register_kind(
    ApprovalKind(
        name=CORRECT,
        label="更正办件事件",
        target_type=TARGET_TYPE,
        level=Level.PROVINCE,
        prepare=_prepare_correct,
        apply=_apply_correct,
    )
)

__all__ = ["CORRECT", "VOID", "CorrectPayload", "VoidPayload", "find_event", "projection_snapshot", "void_of"]
