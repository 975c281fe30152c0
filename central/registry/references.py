"""Checks across entries: duplicate codes in the file, and references to records in the file or stored.

The file wins over the database: a department the file moves to another hall is checked in its
new hall. Only the codes the file mentions are read from the database.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.registry.document import (
    HALL_LEVEL_FOR_REGION,
    PARENT_LEVEL,
    SHARED_PREFIX_DIGITS,
    RegistryDocument,
    iter_regions,
)
from central.registry.models import Department, Hall, Region, ServiceWindow
from common.findings import Finding, Loc

# Keeps every IN (...) list well below SQLite's bound-parameter limit.
IN_CHUNK = 500


def chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start : start + IN_CHUNK]


@dataclass
class KnownRecords:
    """What exists once the file is applied: the file's entries over the stored records it names."""

    region_levels: dict[str, str] = field(default_factory=dict)
    stored_region_levels: dict[str, str] = field(default_factory=dict)
    hall_regions: dict[str, str] = field(default_factory=dict)
    department_halls: dict[str, str] = field(default_factory=dict)
    windows: set[tuple[str, str]] = field(default_factory=set)  # (hall code, window code)


def load_known(session: Session, document: RegistryDocument) -> KnownRecords:
    known = KnownRecords()
    file_regions = [placed.entry for placed in iter_regions(document)]
    region_codes = {r.code for r in file_regions} | {r.parent for r in document.regions if r.parent}
    region_codes |= {h.region for h in document.halls}
    for batch in chunks(region_codes):
        for code, level in session.execute(select(Region.code, Region.level).where(Region.code.in_(batch))):
            known.stored_region_levels[code] = level
    known.region_levels = {**known.stored_region_levels, **{r.code: r.level for r in file_regions}}

    department_codes = {w.department for w in document.windows if w.department}
    department_codes |= {s.department for s in document.staff} | {i.department for i in document.items}
    department_codes -= {d.code for d in document.departments}
    for batch in chunks(department_codes):
        rows = session.execute(
            select(Department.code, Hall.code)
            .join(Hall, Hall.id == Department.hall_id)
            .where(Department.code.in_(batch))
        )
        known.department_halls.update({dept: hall for dept, hall in rows})
    known.department_halls.update({d.code: d.hall for d in document.departments})

    hall_codes = {d.hall for d in document.departments} | {w.hall for w in document.windows}
    hall_codes |= {d.hall for d in document.devices} | set(known.department_halls.values())
    for batch in chunks(hall_codes - {h.code for h in document.halls}):
        rows = session.execute(
            select(Hall.code, Region.code)
            .join(Region, Region.id == Hall.region_id)
            .where(Hall.code.in_(batch))
        )
        known.hall_regions.update({hall: region for hall, region in rows})
    known.hall_regions.update({h.code: h.region for h in document.halls})

    # Windows are looked up by hall: staff and devices name a window by its code within a hall.
    for batch in chunks(set(known.hall_regions)):
        rows = session.execute(
            select(Hall.code, ServiceWindow.code)
            .join(Hall, Hall.id == ServiceWindow.hall_id)
            .where(Hall.code.in_(batch))
        )
        known.windows.update((hall, window) for hall, window in rows)
    known.windows.update((w.hall, w.code) for w in document.windows)
    return known


def find_duplicates(document: RegistryDocument) -> list[Finding]:
    """Every code declared twice in the file, pointing at the second place and naming the first."""
    keyed: list[tuple[str, Iterable[tuple[Loc, str]]]] = [
        ("region", ((p.loc, p.entry.code) for p in iter_regions(document))),
        ("hall", ((("halls", i), h.code) for i, h in enumerate(document.halls))),
        ("department", ((("departments", i), d.code) for i, d in enumerate(document.departments))),
        ("window", ((("windows", i), f"{w.hall}/{w.code}") for i, w in enumerate(document.windows))),
        ("staff", ((("staff", i), s.code) for i, s in enumerate(document.staff))),
        ("device", ((("devices", i), d.code) for i, d in enumerate(document.devices))),
        ("item", ((("items", i), item.code) for i, item in enumerate(document.items))),
    ]
    findings = []
    for kind, entries in keyed:
        first_at: dict[str, Loc] = {}
        for loc, key in entries:
            if key in first_at:
                findings.append(
                    Finding((*loc, "code"), f"duplicate {kind} {key} (first at {format_loc(first_at[key])})")
                )
            else:
                first_at[key] = loc
    return findings


def check_references(document: RegistryDocument, known: KnownRecords) -> list[Finding]:
    return [
        *_check_regions(document, known),
        *_check_halls(document, known),
        *_check_departments(document, known),
        *_check_windows(document, known),
        *_check_staff(document, known),
        *_check_devices(document, known),
        *_check_items(document, known),
    ]


def _check_regions(document: RegistryDocument, known: KnownRecords) -> Iterator[Finding]:
    for placed in iter_regions(document):
        region = placed.entry
        stored = known.stored_region_levels.get(region.code)
        if stored is not None and stored != region.level:
            yield Finding(
                (*placed.loc, "level"),
                f"region {region.code} is stored as a {stored}; an import cannot change a region's level",
            )
    for index, region in enumerate(document.regions):
        if region.parent is None:
            continue
        loc: Loc = ("regions", index, "parent")
        parent_level = known.region_levels.get(region.parent)
        if parent_level is None:
            yield Finding(loc, f"unknown region {region.parent} (neither in this file nor stored)")
        elif PARENT_LEVEL.get(region.level) != parent_level:
            yield Finding(loc, f"a {region.level} cannot sit under a {parent_level} ({region.parent})")
        elif not region.code.startswith(region.parent[: SHARED_PREFIX_DIGITS[parent_level]]):
            yield Finding(("regions", index, "code"), f"{region.code} is not under {region.parent}")


def _check_halls(document: RegistryDocument, known: KnownRecords) -> Iterator[Finding]:
    for index, hall in enumerate(document.halls):
        region_level = known.region_levels.get(hall.region)
        if region_level is None:
            yield Finding(
                ("halls", index, "region"), f"unknown region {hall.region} (neither in this file nor stored)"
            )
            continue
        allowed = {HALL_LEVEL_FOR_REGION[region_level], "sub_centre"}
        if hall.level is not None and hall.level not in allowed:
            yield Finding(
                ("halls", index, "level"),
                f"a hall in a {region_level} region is {' or '.join(sorted(allowed))}, not {hall.level}",
            )


def _unknown_hall(loc: Loc, code: str) -> Finding:
    return Finding(loc, f"unknown hall {code} (neither in this file nor stored)")


def _unknown_department(loc: Loc, code: str) -> Finding:
    return Finding(loc, f"unknown department {code} (neither in this file nor stored)")


def _check_departments(document: RegistryDocument, known: KnownRecords) -> Iterator[Finding]:
    for index, department in enumerate(document.departments):
        if department.hall not in known.hall_regions:
            yield _unknown_hall(("departments", index, "hall"), department.hall)


def _check_windows(document: RegistryDocument, known: KnownRecords) -> Iterator[Finding]:
    for index, window in enumerate(document.windows):
        if window.hall not in known.hall_regions:
            yield _unknown_hall(("windows", index, "hall"), window.hall)
        if window.department is None:
            continue
        department_hall = known.department_halls.get(window.department)
        loc: Loc = ("windows", index, "department")
        if department_hall is None:
            yield _unknown_department(loc, window.department)
        elif department_hall != window.hall:
            yield Finding(
                loc,
                f"department {window.department} is in hall {department_hall}, the window in {window.hall}",
            )


def _check_staff(document: RegistryDocument, known: KnownRecords) -> Iterator[Finding]:
    for index, member in enumerate(document.staff):
        department_hall = known.department_halls.get(member.department)
        if department_hall is None:
            yield _unknown_department(("staff", index, "department"), member.department)
        elif member.window is not None and (department_hall, member.window) not in known.windows:
            yield Finding(
                ("staff", index, "window"),
                f"no window {member.window} in hall {department_hall} (the hall of department {member.department})",
            )


def _check_devices(document: RegistryDocument, known: KnownRecords) -> Iterator[Finding]:
    for index, device in enumerate(document.devices):
        if device.hall not in known.hall_regions:
            yield _unknown_hall(("devices", index, "hall"), device.hall)
        elif device.window is not None and (device.hall, device.window) not in known.windows:
            yield Finding(("devices", index, "window"), f"no window {device.window} in hall {device.hall}")


def _check_items(document: RegistryDocument, known: KnownRecords) -> Iterator[Finding]:
    for index, item in enumerate(document.items):
        if item.department not in known.department_halls:
            yield _unknown_department(("items", index, "department"), item.department)


def format_loc(loc: Loc) -> str:
    """("halls", 0, "region") → "halls[0].region"."""
    place = ""
    for part in loc:
        if isinstance(part, int):
            place += f"[{part}]"
        else:
            place += f".{part}" if place else part
    return place or "(file)"
