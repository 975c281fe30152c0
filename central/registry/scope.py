"""Which entries of a registry file lie outside the importer's jurisdiction (SC-13/14).

The deployment scope (`*`) imports anything. A region imports only below itself: regions under
its own (its own entry belongs to the bureau above), and halls, departments, windows, staff,
devices and items in its subtree; a stored record is never moved in from elsewhere. Choosing a
region's rule profile changes how its cases are judged, so it needs a deployment-wide scope
(`central.access.scope.is_deployment_wide`), like every other rule-profile choice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.registry.document import RegistryDocument, iter_regions
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.registry.models import Department, Device, Hall, Item, Region, Staff
from central.registry.references import chunks
from common.findings import Finding

logger = logging.getLogger(__name__)


def _stored(session: Session, code_col: Any, value_col: Any, codes: Collection[str]) -> dict[str, int]:
    """{code: value} of the stored records among `codes` (value: an id or a parent's id)."""
    found: dict[str, int] = {}
    for batch in chunks(codes):
        found.update(
            {
                code: value
                for code, value in session.execute(select(code_col, value_col).where(code_col.in_(batch)))
            }
        )
    return found


def _owned(
    entries: Iterable[tuple[str, str]],
    *,
    section: str,
    parent_key: str,
    parent_ok: Callable[[str], bool],
    stored_parent: dict[str, int],
    allowed_parent_ids: Collection[int],
    where: str,
) -> tuple[set[str], list[Finding]]:
    """Entries (code, parent code) in scope: the parent is, and a stored one already sits inside."""
    ok: set[str] = set()
    findings: list[Finding] = []
    for index, (code, parent) in enumerate(entries):
        if not parent_ok(parent):
            findings.append(
                Finding((section, index, parent_key), f"{parent_key} {parent} is outside {where}")
            )
        elif code in stored_parent and stored_parent[code] not in allowed_parent_ids:
            findings.append(Finding((section, index, "code"), f"{code} is stored outside {where}"))
        else:
            ok.add(code)
    return ok, findings


def _regions(
    session: Session, document: RegistryDocument, within: Jurisdiction, where: str, wide: bool
) -> tuple[Callable[[str], bool], list[Finding]]:
    placed = list(iter_regions(document))
    codes = {p.entry.code for p in placed} | {p.parent_code for p in placed if p.parent_code}
    stored = _stored(session, Region.code, Region.id, codes)
    writable = within.region_ids - {within.scope_id}
    ok: set[str] = set()
    findings: list[Finding] = []

    def inside(code: str) -> bool:
        return code in ok or stored.get(code) in within.region_ids

    for region in placed:  # parents before their children
        entry, code = region.entry, region.entry.code
        if "rule_profile" in entry.model_fields_set and not wide:
            findings.append(
                Finding(
                    (*region.loc, "rule_profile"),
                    "choosing a region's rule profile needs the deployment (*) or a province scope",
                )
            )
        if code in stored and stored[code] not in writable:
            findings.append(Finding((*region.loc, "code"), f"region {code} is not below {where}"))
        elif region.parent_code is not None and not inside(region.parent_code):
            findings.append(Finding((*region.loc, "code"), f"region {code} would not lie below {where}"))
        elif code not in stored and region.parent_code is None:
            findings.append(Finding((*region.loc, "code"), f"a new top-level region is not below {where}"))
        else:
            ok.add(code)
    return inside, findings


def out_of_scope(
    session: Session, document: RegistryDocument, *, within: Jurisdiction, wide: bool
) -> list[Finding]:
    """Every entry the importer may not write (empty for the deployment scope)."""
    if within.kind is ScopeKind.DEPLOYMENT:
        return []
    where = f"your jurisdiction ({within.code})"
    region_inside, findings = _regions(session, document, within, where, wide)
    hall_codes = {h.code for h in document.halls} | {d.hall for d in document.departments}
    hall_codes |= {w.hall for w in document.windows} | {d.hall for d in document.devices}
    stored_halls = _stored(session, Hall.code, Hall.id, hall_codes)
    halls_ok, found = _owned(
        ((h.code, h.region) for h in document.halls),
        section="halls",
        parent_key="region",
        parent_ok=region_inside,
        stored_parent=_stored(session, Hall.code, Hall.region_id, {h.code for h in document.halls}),
        allowed_parent_ids=within.region_ids,
        where=where,
    )
    findings += found

    def hall_inside(code: str) -> bool:
        return code in halls_ok or stored_halls.get(code) in within.hall_ids

    dept_codes = {d.code for d in document.departments} | {s.department for s in document.staff}
    dept_codes |= {i.department for i in document.items}
    stored_depts = _stored(session, Department.code, Department.id, dept_codes)
    depts_ok, found = _owned(
        ((d.code, d.hall) for d in document.departments),
        section="departments",
        parent_key="hall",
        parent_ok=hall_inside,
        stored_parent=_stored(
            session, Department.code, Department.hall_id, {d.code for d in document.departments}
        ),
        allowed_parent_ids=within.hall_ids,
        where=where,
    )
    findings += found

    def dept_inside(code: str) -> bool:
        return code in depts_ok or stored_depts.get(code) in within.department_ids

    findings += [
        Finding(("windows", index, "hall"), f"hall {window.hall} is outside {where}")
        for index, window in enumerate(document.windows)
        if not hall_inside(window.hall)
    ]
    leaves: list[tuple[str, str, Any, Any, list[tuple[str, str]], Callable[[str], bool], Collection[int]]] = [
        (
            "devices",
            "hall",
            Device.code,
            Device.hall_id,
            [(d.code, d.hall) for d in document.devices],
            hall_inside,
            within.hall_ids,
        ),
        (
            "staff",
            "department",
            Staff.code,
            Staff.department_id,
            [(s.code, s.department) for s in document.staff],
            dept_inside,
            within.department_ids,
        ),
        (
            "items",
            "department",
            Item.code,
            Item.department_id,
            [(i.code, i.department) for i in document.items],
            dept_inside,
            within.department_ids,
        ),
    ]
    for section, parent_key, code_col, parent_col, entries, inside, allowed in leaves:
        _ok, found = _owned(
            entries,
            section=section,
            parent_key=parent_key,
            parent_ok=inside,
            stored_parent=_stored(session, code_col, parent_col, [code for code, _ in entries]),
            allowed_parent_ids=allowed,
            where=where,
        )
        findings += found
    if findings:
        logger.info("registry import by scope %s: %d entries out of scope", within.code, len(findings))
    return findings
