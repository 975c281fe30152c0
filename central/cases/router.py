"""Case API: the event push (also for other departments' systems), case views and lists."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from central.access.deps import CasesReader, CasesWriter
from central.access.refusals import audit_refusal
from central.cases.clock import Light
from central.cases.ingest import ConcurrentWriteError
from central.cases.lifecycle import CaseStatus
from central.cases.queries import CaseFilters, case_exists, get_case, light_counts, list_cases
from central.cases.query_password import reissue_query_password
from central.cases.schemas import BatchResult, CaseDetail, CasePage
from central.cases.service import batch_status_code, submit_raw_events
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.core.types import Day, Moment

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/cases", tags=["cases"])


@router.post(
    "/events",
    response_model=BatchResult,
    responses={
        409: {"model": BatchResult},
        413: {"description": "batch too large"},
        422: {"model": BatchResult},
    },
)
def post_events(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    principal: CasesWriter,
    events: Annotated[list[Any], Body(description="A JSON list of case events; all or nothing.")],
) -> JSONResponse:
    if not events:
        raise HTTPException(422, "the batch is empty")
    if len(events) > settings.max_batch_events:
        raise HTTPException(
            413, f"a batch holds at most {settings.max_batch_events} events, this one {len(events)}"
        )
    try:
        result = submit_raw_events(
            session,
            raw_events=events,
            calendar=calendar,
            default_profile_key=settings.rule_profile,
            now=now,
            source="api",
            actor=principal.actor,
            within=principal.jurisdiction,
            listeners=request.app.state.case_event_listeners,  # ratings' prompts (the app factory's)
        )
    except ConcurrentWriteError as exc:
        raise HTTPException(409, f"{exc}; nothing was written, send the batch again") from exc
    return JSONResponse(status_code=batch_status_code(result), content=result.model_dump(mode="json"))


@router.get("/lights/summary")
def lights_summary(
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    principal: CasesReader,
    as_of: Moment | None = None,
) -> dict[str, Any]:
    moment = as_of or now
    counts = light_counts(
        session,
        as_of=moment,
        calendar=calendar,
        default_profile_key=settings.rule_profile,
        within=principal.jurisdiction,
        received_by=as_of,
    )
    return {
        "as_of": moment,
        "green": counts.green,
        "yellow": counts.yellow,
        "red": counts.red,
        "calendar_missing": counts.unknown,
    }


class QueryPasswordIssued(BaseModel):
    case_no: str
    query_password: str


@router.post("/{case_no}/query-password", response_model=QueryPasswordIssued)
def reissue_password(
    request: Request, case_no: str, session: SessionDep, now: NowDep, principal: CasesWriter
) -> QueryPasswordIssued:
    """A new query password (查询密码) for the case's receipt; the old one stops working. Audited."""
    password = reissue_query_password(
        session, case_no=case_no, within=principal.jurisdiction, actor=principal.actor, now=now
    )
    if password is None:
        if case_exists(session, case_no=case_no):
            audit_refusal(request, action="refused.out_of_jurisdiction", detail=f"case {case_no}")
        raise HTTPException(404, f"no case {case_no}")
    return QueryPasswordIssued(case_no=case_no, query_password=password)


@router.get("/{case_no}", response_model=CaseDetail)
def read_case(
    request: Request,
    case_no: str,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    principal: CasesReader,
    as_of: Annotated[Moment | None, Query(description="Answer as of this moment (ISO 8601).")] = None,
) -> CaseDetail:
    detail = get_case(
        session,
        case_no=case_no,
        as_of=as_of or now,
        calendar=calendar,
        default_profile_key=settings.rule_profile,
        within=principal.jurisdiction,
    )
    if detail is None:
        when = f" as of {as_of.isoformat()}" if as_of else ""
        if case_exists(session, case_no=case_no):  # the same 404, but a probe across the line is audited
            audit_refusal(request, action="refused.out_of_jurisdiction", detail=f"case {case_no}")
        raise HTTPException(404, f"no case {case_no}{when}")
    return detail


@router.get("", response_model=CasePage)
def read_cases(
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    principal: CasesReader,
    hall: Annotated[str | None, Query(max_length=40)] = None,
    department: Annotated[str | None, Query(max_length=40)] = None,
    light: Light | None = None,
    status: CaseStatus | None = None,
    accepted_from: Day | None = None,
    accepted_to: Day | None = None,
    case_no: Annotated[str | None, Query(max_length=64, description="Case number prefix.")] = None,
    as_of: Moment | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1)] = 50,
) -> CasePage:
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size is at most {settings.page_size_max}")
    if accepted_from and accepted_to and accepted_from > accepted_to:
        raise HTTPException(422, "accepted_from is after accepted_to")
    filters = CaseFilters(
        hall_code=hall,
        department_code=department,
        light=light,
        status=status,
        accepted_from=accepted_from,
        accepted_to=accepted_to,
        case_no_prefix=case_no,
        received_by=as_of,
        within=principal.jurisdiction,
    )
    return list_cases(
        session,
        filters=filters,
        as_of=as_of or now,
        calendar=calendar,
        default_profile_key=settings.rule_profile,
        page=page,
        page_size=page_size,
    )
