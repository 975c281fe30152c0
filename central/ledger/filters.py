"""The ledger's shape (台帐, SC-7): the columns every source yields, the filters, and what a source is.

Apart from `central.ledger.queries` (which merges the sources) so that a source in a module of its
own (`central.ledger.finding_source`) needs nothing of the merge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Integer, Label, RowMapping, Select, String, null
from sqlalchemy import cast as sql_cast
from sqlalchemy.types import TypeEngine

from central.ledger.labels import LedgerKind
from central.ledger.schemas import LedgerQuery, LedgerRow
from central.registry.jurisdiction import Jurisdiction
from central.signals.lifecycle import SignalStatus
from central.signals.reasons import Color, Origin

logger = logging.getLogger(__name__)

# Every source's SELECT yields exactly these columns, in this order (UNION ALL matches by position).
COLUMNS = (
    "kind",
    "id",
    "issued_at",
    "issued_on",
    "color",
    "reason_code",
    "origin",
    "status",
    "case_no",
    "hall_code",
    "hall_name",
    "department_code",
    "department_name",
    "correct_by",
    "escalated_at",
    "closed_at",
    "finding",
    "investigation_due",
    "investigation_status",
    "investigation_reported_at",
    "last_action",
    "last_action_at",
    # Patrol findings' (central.ledger.finding_source); null in the other sources.
    "window_code",
    "window_name",
    "inspector",
    "patrol_id",
    "category",
    "signal_id",
)
# The columns above that only some sources have, with their types: `absent_columns` gives a source
# typed NULLs for the ones it lacks (PostgreSQL types each UNION column from its first SELECT).
OPTIONAL_COLUMNS: dict[str, type[TypeEngine[Any]]] = {
    "window_code": String,
    "window_name": String,
    "inspector": String,
    "patrol_id": Integer,
    "category": String,
    "signal_id": Integer,
}


@dataclass(frozen=True, kw_only=True)
class LedgerFilters:
    """What to show; `within` (the caller's jurisdiction) is required and always applied in SQL."""

    within: Jurisdiction
    issued_from: date | None = None  # Shanghai dates of issue, inclusive
    issued_to: date | None = None
    color: Color | None = None
    status: SignalStatus | None = None
    origin: Origin | None = None
    reason_code: str | None = None
    hall_code: str | None = None
    department_code: str | None = None
    case_no_prefix: str | None = None
    overdue_investigation: bool = False  # only entries whose investigation is open past its due date

    @classmethod
    def from_query(cls, query: LedgerQuery, *, within: Jurisdiction) -> LedgerFilters:
        return cls(
            within=within,
            issued_from=query.issued_from,
            issued_to=query.issued_to,
            color=query.color,
            status=query.status,
            origin=query.origin,
            reason_code=query.reason_code,
            hall_code=query.hall,
            department_code=query.department,
            case_no_prefix=query.case_no,
            overdue_investigation=query.overdue_investigation,
        )

    def describe(self) -> dict[str, Any]:
        """The filters that are set, JSON-able (for the audit entry and the export's metadata)."""
        described: dict[str, Any] = {"jurisdiction": self.within.code}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "within" or value is None or value is False:
                continue
            described[field.name] = value.isoformat() if isinstance(value, date) else value
        return described


@dataclass(frozen=True)
class LedgerSource:
    """One kind of ledger entry: its SELECT (None when a filter rules the whole source out) and
    how one of its result rows becomes a `LedgerRow` (labels differ per kind)."""

    kind: LedgerKind
    build: Callable[[LedgerFilters, date], Select[*tuple[Any, ...]] | None]
    to_row: Callable[[RowMapping, date], LedgerRow]


def absent_columns(*present: str) -> list[Label[Any]]:
    """Typed NULLs for the optional columns a source does not have (all but `present`), in order."""
    return [
        sql_cast(null(), type_()).label(name)
        for name, type_ in OPTIONAL_COLUMNS.items()
        if name not in present
    ]


def day_and_place_conditions(
    filters: LedgerFilters, *, day: Any, hall_code: Any, department_code: Any
) -> list[ColumnElement[bool]]:
    """The filters every source understands: its day between issued_from and issued_to, the hall's
    and the department's codes (each source names its own columns)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.issued_from:
        conditions.append(day >= filters.issued_from)
    if filters.issued_to:
        conditions.append(day <= filters.issued_to)
    if filters.hall_code:
        conditions.append(hall_code == filters.hall_code)
    if filters.department_code:
        conditions.append(department_code == filters.department_code)
    return conditions
