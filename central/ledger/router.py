"""API routes for the ledger (台帐, SC-7): filtered pages, and audited CSV / Excel exports (SC-18).

Whoever reads cases reads the ledger of their own jurisdiction (Permission.CASES_READ).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from central.access.deps import CasesReader
from central.core.clock import shanghai_date
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.ledger.export import ExportTooLarge, export_ledger
from central.ledger.queries import LedgerFilters, list_ledger
from central.ledger.schemas import LedgerExportQuery, LedgerListQuery, LedgerPage

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/ledger", tags=["ledger"])


@router.get("", response_model=LedgerPage)
def read_ledger(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: CasesReader,
    query: Annotated[LedgerListQuery, Query()],
) -> LedgerPage:
    """Ledger entries inside the caller's jurisdiction, newest first."""
    if query.page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size is at most {settings.page_size_max}")
    filters = LedgerFilters.from_query(query, within=principal.jurisdiction)
    return list_ledger(
        session, filters=filters, today=shanghai_date(now), page=query.page, page_size=query.page_size
    )


@router.get(
    "/export",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The ledger as a file (Content-Disposition names it, e.g. ledger-20261128.xlsx).",
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            },
        },
        422: {"description": "bad filters, or more entries than one export may hold"},
    },
)
def export(
    session: SessionDep, now: NowDep, principal: CasesReader, query: Annotated[LedgerExportQuery, Query()]
) -> FileResponse:
    """The whole filtered ledger as CSV (UTF-8 with BOM) or Excel; every export is audited."""
    filters = LedgerFilters.from_query(query, within=principal.jurisdiction)
    try:
        exported = export_ledger(session, filters=filters, fmt=query.format, now=now, actor=principal.actor)
    except ExportTooLarge as exc:
        raise HTTPException(422, str(exc)) from exc
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
