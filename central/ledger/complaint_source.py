"""The ledger's complaint source (SZ-14/15, SC-7): every complaint, whatever became of it — waiting
for its decision (with its last day to decide as the entry's deadline), refused with reasons,
accepted and perhaps passed down for investigation (its deadline and whether it is overdue, like a
signal's), closed with its outcome. Nothing personal: no name, phone or text, only the places.

Placed at the complaint's hall and department (one about a whole hall: visible only to scopes that
cover the hall). Its day of issue is the day it was received. The signal-only filters (colour,
signal status, reason) rule the source out; the origin filter keeps it only for `complaint`; the
case-number and overdue-investigation filters apply to it.
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
    and_,
    case,
    func,
    literal_column,
    null,
    select,
    type_coerce,
)
from sqlalchemy import cast as sql_cast

from central.cases.models import Case
from central.complaints.labels import ACTION_LABELS, RECEIVE_ACTION, STATUS_LABELS, outcome_label
from central.complaints.models import Complaint
from central.core.types import UTCDateTime
from central.investigations.models import Investigation
from central.ledger.filters import (
    COLUMNS,
    LedgerFilters,
    LedgerSource,
    absent_columns,
    day_and_place_conditions,
)
from central.ledger.labels import KIND_LABELS, ORIGIN_LABELS, LedgerKind, label
from central.ledger.schemas import LedgerRow
from central.registry.models import Department, Hall, ServiceWindow
from central.signals.reasons import Origin

logger = logging.getLogger(__name__)

INVESTIGATION_OPEN = "open"
_UPHELD = {"upheld": True, "not_upheld": False}


def complaint_select(filters: LedgerFilters, today: date) -> Select[*tuple[Any, ...]] | None:
    if (
        filters.color
        or filters.status
        or filters.reason_code
        or (filters.origin is not None and filters.origin is not Origin.COMPLAINT)
    ):
        return None
    last_action = case(
        (Complaint.status == "closed", "close"),
        (Complaint.status == "refused", "refuse"),
        (Complaint.investigation_id.is_not(None), "assign"),
        (Complaint.status == "accepted", "accept"),
        else_=RECEIVE_ACTION,
    )
    last_at = func.coalesce(
        Complaint.closed_at, Investigation.assigned_at, Complaint.decided_at, Complaint.received_at
    )
    finding = case(
        (Complaint.upheld.is_(True), "upheld"), (Complaint.upheld.is_(False), "not_upheld"), else_=null()
    )
    query = (
        select(
            literal_column(f"'{LedgerKind.COMPLAINT.value}'", String).label("kind"),
            Complaint.id.label("id"),
            Complaint.received_at.label("issued_at"),
            Complaint.received_on.label("issued_on"),
            sql_cast(null(), String).label("color"),
            sql_cast(null(), String).label("reason_code"),
            literal_column(f"'{Origin.COMPLAINT.value}'", String).label("origin"),
            Complaint.status.label("status"),
            Case.case_no.label("case_no"),
            Hall.code.label("hall_code"),
            Hall.name.label("hall_name"),
            Department.code.label("department_code"),
            Department.name.label("department_name"),
            Complaint.decide_by.label("correct_by"),
            sql_cast(null(), UTCDateTime()).label("escalated_at"),
            Complaint.closed_at.label("closed_at"),
            sql_cast(finding, String).label("finding"),
            sql_cast(Investigation.due_date, Date()).label("investigation_due"),
            Investigation.status.label("investigation_status"),
            Investigation.reported_at.label("investigation_reported_at"),
            last_action.label("last_action"),
            type_coerce(last_at, UTCDateTime()).label("last_action_at"),
            ServiceWindow.code.label("window_code"),
            ServiceWindow.name.label("window_name"),
            *absent_columns("window_code", "window_name"),
        )
        .join(Hall, Hall.id == Complaint.hall_id)
        .outerjoin(Department, Department.id == Complaint.department_id)
        .outerjoin(ServiceWindow, ServiceWindow.id == Complaint.window_id)
        .outerjoin(Case, Case.id == Complaint.case_id)
        .outerjoin(Investigation, Investigation.id == Complaint.investigation_id)
        .where(filters.within.clause(hall_id=Complaint.hall_id, department_id=Complaint.department_id))
    )
    conditions = day_and_place_conditions(
        filters, day=Complaint.received_on, hall_code=Hall.code, department_code=Department.code
    )
    if filters.case_no_prefix:
        conditions.append(Case.case_no.startswith(filters.case_no_prefix, autoescape=True))
    if filters.overdue_investigation:
        conditions.append(and_(Investigation.status == INVESTIGATION_OPEN, Investigation.due_date < today))
    return query.where(*conditions)


def complaint_row(row: RowMapping, today: date) -> LedgerRow:
    values = {name: row[name] for name in COLUMNS}
    overdue = (
        row["investigation_status"] == INVESTIGATION_OPEN
        and row["investigation_due"] is not None
        and row["investigation_due"] < today
    )
    return LedgerRow(
        **values,
        kind_label=label(KIND_LABELS, row["kind"]),
        color_label="",
        reason_label="群众投诉（SZ-14）",
        origin_label=label(ORIGIN_LABELS, row["origin"]),
        status_label=label(STATUS_LABELS, row["status"]),
        finding_label=outcome_label(_UPHELD.get(row["finding"] or "")),
        investigation_overdue=overdue,
        last_action_label=label(ACTION_LABELS, row["last_action"]),
        category_label="",
        url=f"/console/complaints/{row['id']}",
    )


COMPLAINT_SOURCE = LedgerSource(LedgerKind.COMPLAINT, complaint_select, complaint_row)
