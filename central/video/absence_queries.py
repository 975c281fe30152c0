"""Listing absences (离岗) with filters, jurisdiction in SQL, and the evidence each one names."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Hall, ServiceWindow
from central.video.labels import ABSENCE_STATUS_LABELS, AbsenceStatus
from central.video.models import AbsenceEvent, AbsenceEvidence, Evidence
from central.video.queries import day_bounds
from central.video.schemas import AbsenceOut, AbsencePage, EvidenceRef

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class AbsenceFilters:
    within: Jurisdiction
    hall_code: str | None = None
    window_code: str | None = None
    status: AbsenceStatus | None = None
    date_from: date | None = None  # Shanghai days of the start, inclusive
    date_to: date | None = None


def _conditions(filters: AbsenceFilters) -> list[ColumnElement[bool]]:
    found = [filters.within.clause(hall_id=AbsenceEvent.hall_id, department_id=AbsenceEvent.department_id)]
    if filters.hall_code:
        found.append(Hall.code == filters.hall_code)
    if filters.window_code:
        found.append(ServiceWindow.code == filters.window_code)
    if filters.status:
        found.append(AbsenceEvent.status == filters.status.value)
    if filters.date_from:
        found.append(AbsenceEvent.started_at >= day_bounds(filters.date_from)[0])
    if filters.date_to:
        found.append(AbsenceEvent.started_at < day_bounds(filters.date_to)[1])
    return found


Listed = Select[AbsenceEvent, str, str, str, str]  # the absence, hall code, window code and name, department


def _base(filters: AbsenceFilters) -> Listed:
    return (
        select(AbsenceEvent, Hall.code, ServiceWindow.code, ServiceWindow.name, Department.code)
        .join(Hall, Hall.id == AbsenceEvent.hall_id)
        .join(ServiceWindow, ServiceWindow.id == AbsenceEvent.window_id)
        .outerjoin(Department, Department.id == AbsenceEvent.department_id)
        .where(*_conditions(filters))
    )


def list_absences(
    session: Session, *, filters: AbsenceFilters, page: int, page_size: int, now: datetime
) -> AbsencePage:
    """Newest first."""
    base = _base(filters)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(AbsenceEvent.started_at.desc(), AbsenceEvent.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    evidence = evidence_of(session, [absence.id for absence, *_ in rows], now=now)
    items = [
        _out(absence, hall, code, name, department, evidence=evidence.get(absence.id, []))
        for absence, hall, code, name, department in rows
    ]
    return AbsencePage(total=total, page=page, page_size=page_size, items=items)


def get_absence(
    session: Session, *, absence_id: int, within: Jurisdiction, now: datetime
) -> AbsenceOut | None:
    row = session.execute(_base(AbsenceFilters(within=within)).where(AbsenceEvent.id == absence_id)).first()
    if row is None:
        return None
    absence, hall, code, name, department = row
    evidence = evidence_of(session, [absence_id], now=now).get(absence_id, [])
    return _out(absence, hall, code, name, department, evidence=evidence)


def evidence_of(session: Session, absence_ids: list[int], *, now: datetime) -> dict[int, list[EvidenceRef]]:
    """The stored evidence each absence names (one query)."""
    found: dict[int, list[EvidenceRef]] = defaultdict(list)
    if not absence_ids:
        return found
    query = (
        select(AbsenceEvidence.absence_id, Evidence)
        .join(
            Evidence,
            (Evidence.device_id == AbsenceEvidence.device_id)
            & (Evidence.observation_id == AbsenceEvidence.evidence_observation_id),
        )
        .where(AbsenceEvidence.absence_id.in_(absence_ids))
        .order_by(Evidence.taken_at, Evidence.id)
    )
    for absence_id, item in session.execute(query):
        gone = item.purged_at is not None or item.expires_at <= now
        found[absence_id].append(
            EvidenceRef(id=item.id, taken_at=item.taken_at, reason=item.reason, gone=gone)
        )
    return found


def _out(
    absence: AbsenceEvent,
    hall_code: str,
    window_code: str,
    window_name: str,
    department_code: str | None,
    *,
    evidence: list[EvidenceRef],
) -> AbsenceOut:
    seconds = (absence.ended_at - absence.started_at).total_seconds() if absence.ended_at else None
    return AbsenceOut(
        id=absence.id,
        hall_code=hall_code,
        window_code=window_code,
        window_name=window_name,
        department_code=department_code,
        camera=absence.camera,
        started_at=absence.started_at,
        ended_at=absence.ended_at,
        seconds=seconds,
        status=AbsenceStatus(absence.status),
        status_label=ABSENCE_STATUS_LABELS.get(absence.status, absence.status),
        origin="recording" if absence.origin == "recording" else "live",
        reviewed_at=absence.reviewed_at,
        reviewed_by=absence.reviewed_by,
        review_note=absence.review_note,
        signal_id=absence.signal_id,
        evidence=evidence,
    )


__all__ = ["AbsenceFilters", "evidence_of", "get_absence", "list_absences"]
