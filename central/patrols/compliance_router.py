"""API routes of patrol compliance (issue 15 item 5): GET /api/v1/patrols/compliance?month=YYYY-MM
and its audited CSV / Excel export. For supervising bodies, as the plan is (`patrol_refusal`)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from central.core.clock import shanghai_date
from central.core.deps import NowDep, SessionDep
from central.patrols.compliance import compliance_month
from central.patrols.compliance_export import export_compliance
from central.patrols.router import Patroller
from central.patrols.schemas import ComplianceExportQuery, ComplianceMonth, ComplianceQuery

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/patrols/compliance", tags=["patrols"])


def month_of(text: str | None, today: date) -> date:
    return date(int(text[:4]), int(text[5:7]), 1) if text else today.replace(day=1)


@router.get("", response_model=ComplianceMonth)
def read_compliance(
    session: SessionDep, now: NowDep, principal: Patroller, query: Annotated[ComplianceQuery, Query()]
) -> ComplianceMonth:
    """Per supervising body of the caller's jurisdiction: the month's required and done patrols."""
    today = shanghai_date(now)
    return compliance_month(
        session, month=month_of(query.month, today), within=principal.jurisdiction, today=today
    )


@router.get(
    "/export",
    response_class=FileResponse,
    responses={
        200: {
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
def export(
    session: SessionDep, now: NowDep, principal: Patroller, query: Annotated[ComplianceExportQuery, Query()]
) -> FileResponse:
    """The monthly table as CSV (UTF-8 with BOM) or Excel; every export is audited."""
    today = shanghai_date(now)
    table = compliance_month(
        session, month=month_of(query.month, today), within=principal.jurisdiction, today=today
    )
    exported = export_compliance(
        session,
        table=table,
        fmt=query.format,
        jurisdiction=principal.jurisdiction.code,
        now=now,
        actor=principal.actor,
    )
    try:
        session.commit()  # the audit entry stands before a byte is sent
    except BaseException:
        exported.path.unlink(missing_ok=True)
        raise
    return FileResponse(
        exported.path,
        media_type=exported.media_type,
        filename=exported.filename,
        background=BackgroundTask(exported.path.unlink, missing_ok=True),
    )
