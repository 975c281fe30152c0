"""API of the monthly report (电子监察月报): its figures as JSON and its PDF, for the deployment, a region
or a hall inside the caller's jurisdiction (another's answers 404, like a missing one). Both are
downloads of a supervision report, so both are audited (`report.monthly.download`)."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from central.access.deps import CasesReader, Principal
from central.core.clock import shanghai_date
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.reports.charts import ChartFontMissing
from central.reports.pdf import PdfUnavailable
from central.reports.period import Month, ReportInputError, parse_month, report_scope
from central.reports.schemas import MonthlyReportData
from central.reports.service import is_final, record_download, report_for_download, report_for_reading

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/reports", tags=["reports"])

MonthParam = Annotated[
    str | None, Query(max_length=20, description="The month, YYYY-MM (default: last month).")
]
ScopeParam = Annotated[
    str | None,
    Query(
        max_length=80,
        description="`*` (the deployment), a region's code (province, city, county) or a hall's code; "
        "`region:` or `hall:` before an ambiguous one (default: your jurisdiction).",
    ),
]
ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "no such region or hall in your jurisdiction"},
    422: {"description": "a malformed month or scope, a month not begun, or a department's scope"},
    503: {"description": "this server cannot make PDFs (WeasyPrint or the CJK fonts are missing)"},
}


def own_scope_code(principal: Principal) -> str:
    """The caller's own jurisdiction as a scope code (prefixed: a bare code may name two things)."""
    within = principal.jurisdiction
    return "*" if within.kind is ScopeKind.DEPLOYMENT else f"{within.kind.value}:{within.code}"


def resolve(
    session: Session, principal: Principal, *, month: str | None, scope: str | None, today: date
) -> tuple[Month, Jurisdiction]:
    """The month and scope asked for, checked (`ReportInputError`)."""
    wanted = parse_month(month, today=today)
    code = scope if scope is not None and scope.strip() else own_scope_code(principal)
    return wanted, report_scope(session, code, caller=principal.jurisdiction)


def _resolved(
    session: Session, principal: Principal, *, month: str | None, scope: str | None, today: date
) -> tuple[Month, Jurisdiction]:
    try:
        return resolve(session, principal, month=month, scope=scope, today=today)
    except ReportInputError as exc:
        raise HTTPException(exc.status_code, exc.detail) from exc


def pdf_filename(month: str, scope: Jurisdiction) -> str:
    code = "all" if scope.kind is ScopeKind.DEPLOYMENT else re.sub(r"[^A-Za-z0-9_-]", "_", scope.code)
    return f"monthly-report-{month}-{code}.pdf"


@router.get("/monthly", response_model=MonthlyReportData, responses=ERRORS)
def monthly_report(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: CasesReader,
    month: MonthParam = None,
    scope: ScopeParam = None,
) -> MonthlyReportData:
    """The month's report figures for the scope: the stored report's once it is final (the month
    ended and closed), else computed now. The figures the PDF shows. Audited."""
    wanted, within = _resolved(session, principal, month=month, scope=scope, today=shanghai_date(now))
    data, row = report_for_reading(
        session, month=wanted, scope=within, now=now, default_profile=settings.rule_profile
    )
    final = row is not None and is_final(session, row, wanted)
    record_download(
        session,
        month=wanted.text,
        scope=within,
        fmt="json",
        actor=principal.actor,
        now=now,
        report_id=row.id if row is not None and final else None,
        sha256=row.pdf_sha256 if row is not None and final else None,
    )
    session.commit()
    return data


@router.get(
    "/monthly.pdf",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"application/pdf": {}}, "description": "the report as a PDF"}},
)
def monthly_report_pdf(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: CasesReader,
    month: MonthParam = None,
    scope: ScopeParam = None,
) -> Response:
    """The month's report as a PDF: the stored one once final, else generated and stored now.
    Audited (generation and download)."""
    wanted, within = _resolved(session, principal, month=month, scope=scope, today=shanghai_date(now))
    try:
        row = report_for_download(
            session,
            month=wanted,
            scope=within,
            now=now,
            actor=principal.actor,
            default_profile=settings.rule_profile,
        )
    except (PdfUnavailable, ChartFontMissing) as exc:
        session.rollback()
        logger.error("monthly report PDF refused: %s", exc)
        raise HTTPException(503, f"this server cannot make the PDF: {exc}") from exc
    record_download(
        session,
        month=wanted.text,
        scope=within,
        fmt="pdf",
        actor=principal.actor,
        now=now,
        report_id=row.id,
        sha256=row.pdf_sha256,
    )
    pdf, filename = row.pdf, pdf_filename(wanted.text, within)
    session.commit()  # the audit entries stand before a byte is sent
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


__all__ = ["own_scope_code", "pdf_filename", "resolve", "router"]
