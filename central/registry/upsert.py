"""Write a checked registry document: create new codes, update changed ones, leave equal ones alone.

Runs inside the caller's transaction and never commits. Kinds are written parents first, with a
flush in between, so each kind can look up the ids of the rows it points at.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.core.db import Base
from central.registry.document import (
    HALL_LEVEL_FOR_REGION,
    REGION_LEVELS_TOP_DOWN,
    RegistryDocument,
    iter_regions,
)
from central.registry.models import Department, Device, Hall, Item, Region, ServiceWindow, Staff
from central.registry.references import KnownRecords, chunks

Row = TypeVar("Row", Region, Hall, Department, Staff, Device, Item)


class KindCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, *, created: bool, changed: bool) -> None:
        if created:
            self.created += 1
        elif changed:
            self.updated += 1
        else:
            self.unchanged += 1


def _rows_by_code(session: Session, model: type[Row], codes: set[str]) -> dict[str, Row]:
    found: dict[str, Row] = {}
    for batch in chunks(codes):
        found.update({row.code: row for row in session.scalars(select(model).where(model.code.in_(batch)))})
    return found


def _ids_by_code(session: Session, model: type[Row], codes: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for batch in chunks(codes):
        rows = session.execute(select(model.code, model.id).where(model.code.in_(batch)))
        found.update({code: row_id for code, row_id in rows})
    return found


def _apply(row: Base, values: dict[str, Any]) -> bool:
    """Set the values that differ; True when any did (so an equal import writes nothing)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _optional(entry: BaseModel, names: tuple[str, ...], *, new: bool) -> dict[str, Any]:
    """Optional keys: written when the file has them (null clears); left out, a stored value stays."""
    return {name: getattr(entry, name) for name in names if new or name in entry.model_fields_set}


def _upsert(
    session: Session, existing: Row | None, new_row: type[Row], values: dict[str, Any]
) -> tuple[bool, bool]:
    if existing is None:
        session.add(new_row(**values))
        return True, True
    return False, _apply(existing, values)


def write_document(
    session: Session, document: RegistryDocument, known: KnownRecords
) -> dict[str, KindCounts]:
    counts = {
        "regions": _write_regions(session, document),
        "halls": _write_halls(session, document, known),
        "departments": _write_departments(session, document),
        "windows": _write_windows(session, document),
        "staff": _write_staff(session, document, known),
        "devices": _write_devices(session, document),
        "items": _write_items(session, document),
    }
    session.flush()
    return counts


def _write_regions(session: Session, document: RegistryDocument) -> KindCounts:
    counts = KindCounts()
    placed = list(iter_regions(document))
    existing = _rows_by_code(session, Region, {p.entry.code for p in placed})
    parent_ids = _ids_by_code(session, Region, {p.parent_code for p in placed if p.parent_code})
    # Level by level: a parent is always one level up, so it has its id (flush) before its children.
    for level in REGION_LEVELS_TOP_DOWN:
        for region in (p for p in placed if p.entry.level == level):
            entry, row = region.entry, existing.get(region.entry.code)
            values: dict[str, Any] = {"code": entry.code, "name": entry.name, "level": entry.level}
            values |= _optional(entry, ("rule_profile",), new=row is None)
            if region.parent_code is not None:
                values["parent_id"] = parent_ids[region.parent_code]
            created, changed = _upsert(session, row, Region, values)
            counts.count(created=created, changed=changed)
        session.flush()
        parent_ids |= _ids_by_code(session, Region, {p.entry.code for p in placed if p.entry.level == level})
    return counts


def _write_halls(session: Session, document: RegistryDocument, known: KnownRecords) -> KindCounts:
    counts = KindCounts()
    existing = _rows_by_code(session, Hall, {h.code for h in document.halls})
    region_ids = _ids_by_code(session, Region, {h.region for h in document.halls})
    for entry in document.halls:
        row = existing.get(entry.code)
        values: dict[str, Any] = {
            "code": entry.code,
            "name": entry.name,
            "region_id": region_ids[entry.region],
        }
        values |= _optional(entry, ("address",), new=row is None)
        if entry.level is not None:
            values["level"] = entry.level
        elif row is None:
            values["level"] = HALL_LEVEL_FOR_REGION[known.region_levels[entry.region]]
        created, changed = _upsert(session, row, Hall, values)
        counts.count(created=created, changed=changed)
    session.flush()
    return counts


def _write_departments(session: Session, document: RegistryDocument) -> KindCounts:
    counts = KindCounts()
    existing = _rows_by_code(session, Department, {d.code for d in document.departments})
    hall_ids = _ids_by_code(session, Hall, {d.hall for d in document.departments})
    for entry in document.departments:
        values = {"code": entry.code, "name": entry.name, "hall_id": hall_ids[entry.hall]}
        created, changed = _upsert(session, existing.get(entry.code), Department, values)
        counts.count(created=created, changed=changed)
    session.flush()
    return counts


def _windows_by_hall(session: Session, hall_codes: set[str]) -> dict[tuple[str, str], ServiceWindow]:
    found: dict[tuple[str, str], ServiceWindow] = {}
    for batch in chunks(hall_codes):
        rows = session.execute(
            select(Hall.code, ServiceWindow)
            .join(Hall, Hall.id == ServiceWindow.hall_id)
            .where(Hall.code.in_(batch))
        )
        found.update({(hall, window.code): window for hall, window in rows})
    return found


def _write_windows(session: Session, document: RegistryDocument) -> KindCounts:
    counts = KindCounts()
    existing = _windows_by_hall(session, {w.hall for w in document.windows})
    hall_ids = _ids_by_code(session, Hall, {w.hall for w in document.windows})
    department_ids = _ids_by_code(
        session, Department, {w.department for w in document.windows if w.department}
    )
    for entry in document.windows:
        row = existing.get((entry.hall, entry.code))
        values: dict[str, Any] = {"code": entry.code, "name": entry.name, "hall_id": hall_ids[entry.hall]}
        if row is None or "department" in entry.model_fields_set:
            values["department_id"] = department_ids[entry.department] if entry.department else None
        if row is None:
            session.add(ServiceWindow(**values))
            counts.count(created=True, changed=True)
        else:
            counts.count(created=False, changed=_apply(row, values))
    session.flush()
    return counts


def _write_staff(session: Session, document: RegistryDocument, known: KnownRecords) -> KindCounts:
    counts = KindCounts()
    existing = _rows_by_code(session, Staff, {s.code for s in document.staff})
    department_ids = _ids_by_code(session, Department, {s.department for s in document.staff})
    windows = _windows_by_hall(
        session, {known.department_halls[s.department] for s in document.staff if s.window}
    )
    for entry in document.staff:
        row = existing.get(entry.code)
        values: dict[str, Any] = {
            "code": entry.code,
            "name": entry.name,
            "department_id": department_ids[entry.department],
        }
        values |= _optional(entry, ("active",), new=row is None)
        if row is None or "window" in entry.model_fields_set:
            hall = known.department_halls[entry.department]
            values["window_id"] = windows[(hall, entry.window)].id if entry.window else None
        created, changed = _upsert(session, row, Staff, values)
        counts.count(created=created, changed=changed)
    return counts


def _write_devices(session: Session, document: RegistryDocument) -> KindCounts:
    counts = KindCounts()
    existing = _rows_by_code(session, Device, {d.code for d in document.devices})
    hall_ids = _ids_by_code(session, Hall, {d.hall for d in document.devices})
    windows = _windows_by_hall(session, {d.hall for d in document.devices if d.window})
    for entry in document.devices:
        row = existing.get(entry.code)
        values: dict[str, Any] = {
            "code": entry.code,
            "kind": entry.kind,
            "name": entry.name,
            "hall_id": hall_ids[entry.hall],
        }
        if row is None or "window" in entry.model_fields_set:
            values["window_id"] = windows[(entry.hall, entry.window)].id if entry.window else None
        created, changed = _upsert(session, row, Device, values)
        counts.count(created=created, changed=changed)
    return counts


ITEM_OPTIONAL = ("promised_limit_days", "stage_limits", "fee", "basis", "conditions", "materials")


def _write_items(session: Session, document: RegistryDocument) -> KindCounts:
    counts = KindCounts()
    existing = _rows_by_code(session, Item, {i.code for i in document.items})
    department_ids = _ids_by_code(session, Department, {i.department for i in document.items})
    for entry in document.items:
        row = existing.get(entry.code)
        values: dict[str, Any] = {
            "code": entry.code,
            "name": entry.name,
            "department_id": department_ids[entry.department],
            "legal_limit_days": entry.legal_limit_days,
        }
        values |= _optional(entry, ITEM_OPTIONAL, new=row is None)
        if "stage_limits" in values and values["stage_limits"] is not None:
            values["stage_limits"] = dict(values["stage_limits"])  # a plain dict for the JSON column
        created, changed = _upsert(session, row, Item, values)
        counts.count(created=created, changed=changed)
    return counts
