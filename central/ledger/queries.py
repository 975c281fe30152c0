"""The ledger (台帐, SC-7): one record of signals, patrol findings, follow-ups and complaints, as a
query layer.

No table of its own: each *source* (signals; follow-ups of 差评, HCP; patrol findings) builds a
SELECT over its own tables that yields the same columns (`COLUMNS`), applying the filters it
understands and the caller's jurisdiction in SQL. The sources'
SELECTs are merged with UNION ALL and ordered by time, newest first, so a new source is one more
`LedgerSource` in `SOURCES`, not a rewrite (the columns and filters are in `central.ledger.filters`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    RowMapping,
    Select,
    String,
    Subquery,
    and_,
    case,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from central.cases.models import Case
from central.core.types import UTCDateTime
from central.investigations.models import Investigation
from central.ledger.complaint_source import COMPLAINT_SOURCE
from central.ledger.filters import (
    COLUMNS,
    LedgerFilters,
    LedgerSource,
    absent_columns,
    day_and_place_conditions,
)
from central.ledger.finding_source import FINDING_SOURCE
from central.ledger.labels import (
    COLOR_LABELS,
    ISSUE_ACTION,
    KIND_LABELS,
    ORIGIN_LABELS,
    REASON_LABELS,
    SIGNAL_ACTION_LABELS,
    SIGNAL_FINDING_LABELS,
    SIGNAL_STATUS_LABELS,
    LedgerKind,
    label,
)
from central.ledger.schemas import LedgerPage, LedgerRow
from central.ratings.labels import FOLLOWUP_ACTION_LABELS, FOLLOWUP_STATUS_LABELS, OPEN_ACTION
from central.ratings.models import FollowUp, Rating
from central.registry.models import Department, Hall
from central.signals.models import Signal, SignalEvent

logger = logging.getLogger(__name__)

INVESTIGATION_OPEN = "open"  # Investigation.status: open | reported
EXPORT_CHUNK_ROWS = 1000

# -- the signal source (SZ-10..13) --------------------------------------------------------------


def _signal_overdue(today: date) -> ColumnElement[bool]:
    return and_(Investigation.status == INVESTIGATION_OPEN, Investigation.due_date < today)


def _signal_select(filters: LedgerFilters, today: date) -> Select[*tuple[Any, ...]]:
    latest = (
        select(SignalEvent.action)
        .where(SignalEvent.signal_id == Signal.id)
        .order_by(SignalEvent.at.desc(), SignalEvent.id.desc())
        .limit(1)
        .correlate(Signal)
        .scalar_subquery()
    )
    latest_at = select(func.max(SignalEvent.at)).where(SignalEvent.signal_id == Signal.id).scalar_subquery()
    query = (
        select(
            literal_column(f"'{LedgerKind.SIGNAL.value}'", String).label("kind"),
            Signal.id.label("id"),
            Signal.issued_at.label("issued_at"),
            Signal.issued_on.label("issued_on"),
            Signal.color.label("color"),
            Signal.reason_code.label("reason_code"),
            Signal.origin.label("origin"),
            Signal.status.label("status"),
            Case.case_no.label("case_no"),
            Hall.code.label("hall_code"),
            Hall.name.label("hall_name"),
            Department.code.label("department_code"),
            Department.name.label("department_name"),
            Signal.correct_by.label("correct_by"),
            Signal.escalated_at.label("escalated_at"),
            Signal.closed_at.label("closed_at"),
            Signal.finding.label("finding"),
            Investigation.due_date.label("investigation_due"),
            Investigation.status.label("investigation_status"),
            Investigation.reported_at.label("investigation_reported_at"),
            func.coalesce(latest, ISSUE_ACTION).label("last_action"),
            type_coerce(func.coalesce(latest_at, Signal.issued_at), UTCDateTime()).label("last_action_at"),
            *absent_columns(),
        )
        .join(Hall, Hall.id == Signal.hall_id)
        .join(Department, Department.id == Signal.department_id)
        .outerjoin(Case, Case.id == Signal.case_id)
        .outerjoin(Investigation, Investigation.signal_id == Signal.id)
        .where(filters.within.clause(hall_id=Signal.hall_id, department_id=Signal.department_id))
    )
    conditions = day_and_place_conditions(
        filters, day=Signal.issued_on, hall_code=Hall.code, department_code=Department.code
    )
    if filters.color:
        conditions.append(Signal.color == filters.color.value)
    if filters.status:
        conditions.append(Signal.status == filters.status.value)
    if filters.origin:
        conditions.append(Signal.origin == filters.origin.value)
    if filters.reason_code:
        conditions.append(Signal.reason_code == filters.reason_code)
    if filters.case_no_prefix:
        conditions.append(Case.case_no.startswith(filters.case_no_prefix, autoescape=True))
    if filters.overdue_investigation:
        conditions.append(_signal_overdue(today))
    return query.where(*conditions)


def _signal_row(row: RowMapping, today: date) -> LedgerRow:
    overdue = (
        row["investigation_status"] == INVESTIGATION_OPEN
        and row["investigation_due"] is not None
        and row["investigation_due"] < today
    )
    return LedgerRow(
        **{name: row[name] for name in COLUMNS},
        kind_label=label(KIND_LABELS, row["kind"]),
        color_label=label(COLOR_LABELS, row["color"]),
        reason_label=label(REASON_LABELS, row["reason_code"]),
        origin_label=label(ORIGIN_LABELS, row["origin"]),
        status_label=label(SIGNAL_STATUS_LABELS, row["status"]),
        finding_label=label(SIGNAL_FINDING_LABELS, row["finding"]),
        investigation_overdue=overdue,
        last_action_label=label(SIGNAL_ACTION_LABELS, row["last_action"]),
        category_label="",
        url=f"/console/signals/{row['id']}",
    )


# -- the follow-up source (HCP): every 差评's callback and rectification ------------------------


def _followup_select(filters: LedgerFilters, today: date) -> Select[*tuple[Any, ...]] | None:
    """Follow-ups of 差评: issued on the 差评's day, correct_by = the rectification deadline.
    Signal-only filters (colour, status, origin, reason, investigations) rule the source out."""
    if (
        filters.color
        or filters.status
        or filters.origin
        or filters.reason_code
        or filters.overdue_investigation
    ):
        return None
    last_action = case(
        (FollowUp.closed_at.is_not(None), "close"),
        (FollowUp.rectified_at.is_not(None), "rectify"),
        (FollowUp.callback_at.is_not(None), "callback"),
        else_=OPEN_ACTION,
    )
    last_at = func.coalesce(
        FollowUp.closed_at, FollowUp.rectified_at, FollowUp.callback_at, FollowUp.opened_at
    )
    query = (
        select(
            literal_column(f"'{LedgerKind.FOLLOWUP.value}'", String).label("kind"),
            FollowUp.id.label("id"),
            FollowUp.opened_at.label("issued_at"),
            Rating.rated_on.label("issued_on"),
            sql_cast(null(), String).label("color"),
            sql_cast(null(), String).label("reason_code"),
            sql_cast(null(), String).label("origin"),
            FollowUp.status.label("status"),
            Case.case_no.label("case_no"),
            Hall.code.label("hall_code"),
            Hall.name.label("hall_name"),
            Department.code.label("department_code"),
            Department.name.label("department_name"),
            FollowUp.rectify_due.label("correct_by"),
            sql_cast(null(), UTCDateTime()).label("escalated_at"),
            FollowUp.closed_at.label("closed_at"),
            sql_cast(null(), String).label("finding"),
            sql_cast(null(), Date()).label("investigation_due"),
            sql_cast(null(), String).label("investigation_status"),
            sql_cast(null(), UTCDateTime()).label("investigation_reported_at"),
            last_action.label("last_action"),
            type_coerce(last_at, UTCDateTime()).label("last_action_at"),
            *absent_columns(),
        )
        .join(Rating, Rating.id == FollowUp.rating_id)
        .join(Hall, Hall.id == FollowUp.hall_id)
        .outerjoin(Department, Department.id == FollowUp.department_id)
        .outerjoin(Case, Case.id == Rating.case_id)
        .where(filters.within.clause(hall_id=FollowUp.hall_id, department_id=FollowUp.department_id))
    )
    conditions = day_and_place_conditions(
        filters, day=Rating.rated_on, hall_code=Hall.code, department_code=Department.code
    )
    if filters.case_no_prefix:
        conditions.append(Case.case_no.startswith(filters.case_no_prefix, autoescape=True))
    return query.where(*conditions)


def _followup_row(row: RowMapping, _today: date) -> LedgerRow:
    return LedgerRow(
        **{name: row[name] for name in COLUMNS},
        kind_label=label(KIND_LABELS, row["kind"]),
        color_label="",
        reason_label="差评回访整改",
        origin_label="",
        status_label=label(FOLLOWUP_STATUS_LABELS, row["status"]),
        finding_label="",
        investigation_overdue=False,
        last_action_label=label(FOLLOWUP_ACTION_LABELS, row["last_action"]),
        category_label="",
        url=f"/console/ratings/followups/{row['id']}",
    )


SOURCES: tuple[LedgerSource, ...] = (
    LedgerSource(LedgerKind.SIGNAL, _signal_select, _signal_row),
    LedgerSource(LedgerKind.FOLLOWUP, _followup_select, _followup_row),
    FINDING_SOURCE,
    COMPLAINT_SOURCE,
)
_BY_KIND = {source.kind.value: source for source in SOURCES}


# -- merging the sources ------------------------------------------------------------------------


def _ledger(filters: LedgerFilters, today: date) -> Subquery | None:
    selects = [query for source in SOURCES if (query := source.build(filters, today)) is not None]
    if not selects:
        return None
    merged = selects[0] if len(selects) == 1 else union_all(*selects)
    return merged.subquery("ledger")


def _ordered(ledger: Subquery) -> Select[*tuple[Any, ...]]:
    columns = ledger.c
    return select(ledger).order_by(columns.issued_at.desc(), columns.kind, columns.id.desc())


def _to_row(row: RowMapping, today: date) -> LedgerRow:
    return _BY_KIND[row["kind"]].to_row(row, today)


def count_ledger(session: Session, *, filters: LedgerFilters, today: date) -> int:
    ledger = _ledger(filters, today)
    if ledger is None:
        return 0
    return session.scalar(select(func.count()).select_from(ledger)) or 0


def list_ledger(
    session: Session, *, filters: LedgerFilters, today: date, page: int, page_size: int
) -> LedgerPage:
    """One page of the ledger, newest first; `today` (Shanghai) decides which investigations are overdue."""
    ledger = _ledger(filters, today)
    items: list[LedgerRow] = []
    total = 0
    if ledger is not None:
        total = session.scalar(select(func.count()).select_from(ledger)) or 0
        query = _ordered(ledger).offset((page - 1) * page_size).limit(page_size)
        items = [_to_row(row, today) for row in session.execute(query).mappings()]
    return LedgerPage(as_of=today, total=total, page=page, page_size=page_size, items=items)


def iter_ledger(
    session: Session, *, filters: LedgerFilters, today: date, chunk_rows: int = EXPORT_CHUNK_ROWS
) -> Iterator[LedgerRow]:
    """Every matching entry, newest first, fetched `chunk_rows` at a time (a server-side cursor on
    PostgreSQL), so an export of a million rows never holds them all in memory."""
    ledger = _ledger(filters, today)
    if ledger is None:
        return
    result = session.execute(_ordered(ledger).execution_options(yield_per=chunk_rows))
    for row in result.mappings():
        yield _to_row(row, today)


__all__ = [
    "COLUMNS",
    "SOURCES",
    "LedgerFilters",
    "LedgerSource",
    "count_ledger",
    "iter_ledger",
    "list_ledger",
]
