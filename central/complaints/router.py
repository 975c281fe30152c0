"""The complaint API for staff (signed in): list and read inside the jurisdiction (masked unless the
reader handles the complaint), decide, pass down, close, fetch an attachment."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import CasesReader, Principal
from central.complaints.attachments import PDF
from central.complaints.labels import ComplaintStatus
from central.complaints.models import ComplaintAttachment
from central.complaints.queries import ComplaintFilters, get_complaint, list_complaints
from central.complaints.schemas import AssignIn, CloseIn, ComplaintOut, ComplaintPage, DecisionIn
from central.complaints.service import (
    ComplaintConflict,
    ComplaintForbidden,
    ComplaintInputError,
    ComplaintNotFound,
    assign_complaint,
    close_complaint,
    decide_complaint,
    handles,
    visible_complaint,
)
from central.core.clock import shanghai_date
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.investigations.service import InvestigationConflict
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/complaints", tags=["complaints"])
ComplaintId = Annotated[int, Path(ge=1, le=2**62)]


def _one(
    session: Session, complaint_id: int, principal: Principal, calendar: WorkCalendar, now: datetime
) -> ComplaintOut:
    try:
        return get_complaint(
            session,
            complaint_id=complaint_id,
            principal=principal,
            today=shanghai_date(now),
            calendar=calendar,
        )
    except ComplaintNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


def _http(exc: Exception) -> HTTPException:
    if isinstance(exc, ComplaintNotFound):
        return HTTPException(404, str(exc))
    if isinstance(exc, ComplaintForbidden):
        return HTTPException(403, str(exc))
    if isinstance(exc, ComplaintInputError):
        return HTTPException(422, str(exc))
    return HTTPException(409, str(exc))


HANDLING_ERRORS = (
    ComplaintNotFound,
    ComplaintForbidden,
    ComplaintInputError,
    ComplaintConflict,
    InvestigationConflict,
)


@router.get("", response_model=ComplaintPage)
def list_(
    principal: CasesReader,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    status: ComplaintStatus | None = None,
    overdue: Annotated[bool, Query(description="Only those undecided past their last day.")] = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1)] = 50,
) -> ComplaintPage:
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size is at most {settings.page_size_max}")
    return list_complaints(
        session,
        principal=principal,
        filters=ComplaintFilters(status=status, overdue=overdue),
        today=shanghai_date(now),
        calendar=calendar,
        page=page,
        page_size=page_size,
    )


@router.get("/{complaint_id}", response_model=ComplaintOut)
def one(
    complaint_id: ComplaintId, principal: CasesReader, session: SessionDep, calendar: CalendarDep, now: NowDep
) -> ComplaintOut:
    return _one(session, complaint_id, principal, calendar, now)


@router.post("/{complaint_id}/decision", response_model=ComplaintOut)
def decide(
    complaint_id: ComplaintId,
    body: DecisionIn,
    principal: CasesReader,
    session: SessionDep,
    calendar: CalendarDep,
    now: NowDep,
) -> ComplaintOut:
    """Accept, or refuse with reasons, within the working days (SZ-14)."""
    try:
        decide_complaint(session, complaint_id=complaint_id, body=body, principal=principal, now=now)
    except HANDLING_ERRORS as exc:
        raise _http(exc) from exc
    session.commit()
    return _one(session, complaint_id, principal, calendar, now)


@router.post("/{complaint_id}/assign", response_model=ComplaintOut)
def assign(
    complaint_id: ComplaintId,
    body: AssignIn,
    principal: CasesReader,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> ComplaintOut:
    """Pass an accepted complaint down for investigation (SC-9 deadlines)."""
    try:
        assign_complaint(
            session,
            complaint_id=complaint_id,
            body=body,
            principal=principal,
            now=now,
            calendar=calendar,
            default_profile=settings.rule_profile,
        )
    except HANDLING_ERRORS as exc:
        raise _http(exc) from exc
    session.commit()
    return _one(session, complaint_id, principal, calendar, now)


@router.post("/{complaint_id}/close", response_model=ComplaintOut)
def close(
    complaint_id: ComplaintId,
    body: CloseIn,
    principal: CasesReader,
    session: SessionDep,
    calendar: CalendarDep,
    now: NowDep,
) -> ComplaintOut:
    """The findings, the reply and whether it was justified: the complaint is closed."""
    try:
        close_complaint(session, complaint_id=complaint_id, body=body, principal=principal, now=now)
    except HANDLING_ERRORS as exc:
        raise _http(exc) from exc
    session.commit()
    return _one(session, complaint_id, principal, calendar, now)


@router.get(
    "/{complaint_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "application/pdf": {}}}},
)
def attachment(
    complaint_id: ComplaintId,
    attachment_id: Annotated[int, Path(ge=1, le=2**62)],
    principal: CasesReader,
    session: SessionDep,
) -> Response:
    """An attachment's bytes, for the inspectors handling the complaint only (personal data)."""
    try:
        complaint = visible_complaint(session, complaint_id=complaint_id, within=principal.jurisdiction)
    except ComplaintNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    if not handles(principal, complaint):
        raise HTTPException(403, "only the inspectors handling the complaint may open its attachments")
    found = session.scalar(
        select(ComplaintAttachment).where(
            ComplaintAttachment.id == attachment_id, ComplaintAttachment.complaint_id == complaint.id
        )
    )
    if found is None:
        raise HTTPException(404, f"no attachment #{attachment_id} of complaint #{complaint_id}")
    disposition = "attachment" if found.media_type == PDF else "inline"  # a PDF is saved, not run here
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(found.filename)}",
        "Cache-Control": "private, no-store",
    }
    return Response(found.data, media_type=found.media_type, headers=headers)
