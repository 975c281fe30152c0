"""Listing patrol findings for their reviewers (issue 15 item 5): a supervisor's jurisdiction applied
in SQL to the finding's window (its department; the whole hall for a window without one), as the
ledger (SC-7) does."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.patrols.findings_kinds import FindingStatus
from central.patrols.models import PatrolFinding
from central.patrols.schemas import FindingPage
from central.patrols.session_queries import finding_public
from central.registry.models import Hall, ServiceWindow

logger = logging.getLogger(__name__)


def list_findings(
    session: Session,
    *,
    principal: Principal,
    status: FindingStatus | None,
    hall_code: str | None,
    page: int,
    page_size: int,
) -> FindingPage:
    """Findings in the principal's jurisdiction, newest first (a hall of another one lists nothing)."""
    query = (
        select(PatrolFinding)
        .join(ServiceWindow, ServiceWindow.id == PatrolFinding.window_id)
        .join(Hall, Hall.id == PatrolFinding.hall_id)
        .where(
            principal.jurisdiction.clause(
                hall_id=PatrolFinding.hall_id, department_id=ServiceWindow.department_id
            )
        )
    )
    if status is not None:
        query = query.where(PatrolFinding.status == status.value)
    if hall_code is not None:
        query = query.where(Hall.code == hall_code)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(PatrolFinding.at.desc(), PatrolFinding.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    items = [finding_public(session, finding) for finding in rows]
    return FindingPage(total=total, page=page, page_size=page_size, items=items)
