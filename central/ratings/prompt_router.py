"""The staff member's "request rating" (一事一评): POST /api/v1/ratings/prompts asks the window's
keypad to rate a case now. Included by `central.ratings.router` (signed-in principal required)."""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from central.access.deps import CasesWriter
from central.access.refusals import audit_refusal
from central.cases.models import Case
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.profiles.assignment import profile_for_hall
from central.ratings.prompts import case_is_rated, hall_code, open_prompt, staff_for_prompt
from central.registry.models import ServiceWindow

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/ratings", tags=["ratings"])


class PromptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    window: str = Field(min_length=1, max_length=40, description="Window code in the case's hall.")
    case_no: str = Field(min_length=1, max_length=64)


class PromptOut(BaseModel):
    prompt_id: int
    case_no: str
    window: str
    staff_no: str | None
    staff_name: str | None
    opened_at: datetime
    expires_at: datetime


@router.post("/prompts", response_model=PromptOut, status_code=201)
def request_rating(
    request: Request,
    body: PromptRequest,
    principal: CasesWriter,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> PromptOut:
    case = session.scalar(select(Case).where(Case.case_no == body.case_no))
    if case is None or not principal.jurisdiction.covers_case(
        hall_id=case.hall_id, department_id=case.department_id
    ):
        if case is not None:  # the same 404, but a probe across the line is audited
            audit_refusal(request, action="refused.out_of_jurisdiction", detail=f"case {body.case_no}")
        raise HTTPException(404, f"no case {body.case_no}")
    window = session.scalar(
        select(ServiceWindow).where(ServiceWindow.hall_id == case.hall_id, ServiceWindow.code == body.window)
    )
    if window is None:
        raise HTTPException(422, f"no window {body.window} in hall {hall_code(session, case.hall_id)}")
    if case_is_rated(session, case_id=case.id):
        raise HTTPException(409, f"case {body.case_no} is already rated (一事一评)")
    staff = staff_for_prompt(session, window=window, case=case, staff=None)
    profile = profile_for_hall(session, hall_id=case.hall_id, default_key=settings.rule_profile)
    prompt = open_prompt(
        session,
        window=window,
        case=case,
        staff=staff,
        source="staff_request",
        now=now,
        profile=profile,
        actor=principal.actor,
    )
    session.commit()
    return PromptOut(
        prompt_id=prompt.id,
        case_no=case.case_no,
        window=window.code,
        staff_no=staff.code if staff else None,
        staff_name=staff.name if staff else None,
        opened_at=prompt.opened_at,
        expires_at=prompt.expires_at,
    )
