"""The ledger's patrol-finding source (SC-7: every finding goes into the ledger, whatever its review).

One entry per finding: 待认定, 已确认 (with the signal it raised, which is also its own signal entry,
and may be investigated, SC-9) or 不予认定 (with the reason, never deleted). Placed at the hall and at
the department of the finding's window (a window without one: visible only to scopes covering the
whole hall, like any row without a department). Its day of issue is the patrol's working day.

The signal-only filters (colour, signal status, reason, case number, investigation overdue) rule the
source out; the origin filter keeps it only for `patrol`.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    RowMapping,
    Select,
    String,
    case,
    func,
    literal_column,
    null,
    select,
    type_coerce,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import aliased

from central.access.models import User
from central.core.types import UTCDateTime
from central.ledger.filters import COLUMNS, LedgerFilters, LedgerSource, day_and_place_conditions
from central.ledger.labels import KIND_LABELS, ORIGIN_LABELS, LedgerKind, label
from central.ledger.schemas import LedgerRow
from central.patrols.findings_kinds import CATEGORY_LABELS, FINDING_STATUS_LABELS, FindingStatus
from central.patrols.models import PatrolFinding, PatrolSession
from central.registry.models import Department, Hall, ServiceWindow
from central.signals.reasons import Origin

logger = logging.getLogger(__name__)

RECORD_ACTION = "record"
FINDING_ACTION_LABELS: dict[str, str] = {
    RECORD_ACTION: "记录",
    FindingStatus.CONFIRMED: "确认",
    FindingStatus.DISMISSED: "不予认定",
}


def finding_select(filters: LedgerFilters, _today: date) -> Select[*tuple[Any, ...]] | None:
    if (
        filters.color
        or filters.status
        or filters.reason_code
        or filters.case_no_prefix
        or filters.overdue_investigation
        or (filters.origin is not None and filters.origin is not Origin.PATROL)
    ):
        return None
    window = aliased(ServiceWindow)
    last_action = case(
        (PatrolFinding.status == FindingStatus.CONFIRMED.value, FindingStatus.CONFIRMED.value),
        (PatrolFinding.status == FindingStatus.DISMISSED.value, FindingStatus.DISMISSED.value),
        else_=RECORD_ACTION,
    )
    query = (
        select(
            literal_column(f"'{LedgerKind.FINDING.value}'", String).label("kind"),
            PatrolFinding.id.label("id"),
            PatrolFinding.at.label("issued_at"),
            PatrolSession.day.label("issued_on"),
            sql_cast(null(), String).label("color"),
            sql_cast(null(), String).label("reason_code"),
            literal_column(f"'{Origin.PATROL.value}'", String).label("origin"),
            PatrolFinding.status.label("status"),
            sql_cast(null(), String).label("case_no"),
            Hall.code.label("hall_code"),
            Hall.name.label("hall_name"),
            Department.code.label("department_code"),
            Department.name.label("department_name"),
            sql_cast(null(), Date()).label("correct_by"),
            sql_cast(null(), UTCDateTime()).label("escalated_at"),
            sql_cast(null(), UTCDateTime()).label("closed_at"),
            sql_cast(null(), String).label("finding"),
            sql_cast(null(), Date()).label("investigation_due"),
            sql_cast(null(), String).label("investigation_status"),
            sql_cast(null(), UTCDateTime()).label("investigation_reported_at"),
            last_action.label("last_action"),
            type_coerce(func.coalesce(PatrolFinding.reviewed_at, PatrolFinding.at), UTCDateTime()).label(
                "last_action_at"
            ),
            window.code.label("window_code"),
            window.name.label("window_name"),
            User.username.label("inspector"),
            PatrolFinding.session_id.label("patrol_id"),
            PatrolFinding.category.label("category"),
            PatrolFinding.signal_id.label("signal_id"),
        )
        .join(PatrolSession, PatrolSession.id == PatrolFinding.session_id)
        .join(window, window.id == PatrolFinding.window_id)
        .join(Hall, Hall.id == PatrolFinding.hall_id)
        .join(User, User.id == PatrolFinding.inspector_id)
        .outerjoin(Department, Department.id == window.department_id)
        .where(filters.within.clause(hall_id=PatrolFinding.hall_id, department_id=window.department_id))
    )
    return query.where(
        *day_and_place_conditions(
            filters, day=PatrolSession.day, hall_code=Hall.code, department_code=Department.code
        )
    )


def finding_row(row: RowMapping, _today: date) -> LedgerRow:
    category = label(CATEGORY_LABELS, row["category"])
    return LedgerRow(
        **{name: row[name] for name in COLUMNS},
        kind_label=label(KIND_LABELS, row["kind"]),
        color_label="",
        reason_label=f"视频巡查发现：{category}",
        origin_label=label(ORIGIN_LABELS, row["origin"]),
        status_label=label(FINDING_STATUS_LABELS, row["status"]),
        finding_label="",
        investigation_overdue=False,
        last_action_label=label(FINDING_ACTION_LABELS, row["last_action"]),
        category_label=category,
        url=f"/console/patrols/sessions/{row['patrol_id']}",
    )


FINDING_SOURCE = LedgerSource(LedgerKind.FINDING, finding_select, finding_row)
