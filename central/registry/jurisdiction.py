"""Jurisdiction (SC-13/14): which halls and departments a user's scope covers, enforced in queries.

It is a part of the registry's tree, so it lives here, below access (which gives one to each user)
and below every domain that filters by it (cases: `central.cases.queries.case_clause`).

The deployment scope (`*`) covers everything: the first administrator needs it to import the
registry that every other scope names. A region covers its whole subtree (a city covers its counties); a hall covers its departments;
a department covers only itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from central.registry.models import Department, Hall, Region

logger = logging.getLogger(__name__)


class ScopeKind(StrEnum):
    DEPLOYMENT = "deployment"  # everything this central serves: the bootstrap administrator's scope
    REGION = "region"
    HALL = "hall"
    DEPARTMENT = "department"


class ScopeError(ValueError):
    """A scope code that names nothing, or names several things."""


@dataclass(frozen=True)
class Jurisdiction:
    kind: ScopeKind
    scope_id: int
    code: str
    # Below: empty for the deployment scope, which covers everything (test `kind` first).
    region_ids: frozenset[int]
    hall_ids: frozenset[int]
    department_ids: frozenset[int]  # every department of the covered halls, or the one department

    def clause(self, *, hall_id: Any, department_id: Any) -> ColumnElement[bool]:
        """The WHERE clause for any table placed by a hall and a department (cases, signals, …).

        `department_id` may be a nullable column: a row with no department is visible to the
        scopes covering its whole hall, never to a department.
        """
        if self.kind is ScopeKind.DEPLOYMENT:
            return true()
        if self.kind is ScopeKind.DEPARTMENT:
            return cast(ColumnElement[bool], department_id == self.scope_id)
        if not self.hall_ids:
            return false()
        return cast(ColumnElement[bool], hall_id.in_(sorted(self.hall_ids)))

    def includes_hall(self, hall_id: int) -> bool:
        """The hall lies in this jurisdiction (a department's own hall included)."""
        return self.kind is ScopeKind.DEPLOYMENT or hall_id in self.hall_ids

    def covers_hall(self, hall_id: int) -> bool:
        """The whole hall is in this jurisdiction (a department covers only part of its hall)."""
        return self.kind is not ScopeKind.DEPARTMENT and self.includes_hall(hall_id)

    def covers_case(self, *, hall_id: int, department_id: int) -> bool:
        if self.kind is ScopeKind.DEPARTMENT:
            return department_id == self.scope_id
        return self.includes_hall(hall_id)

    def contains(self, other: Jurisdiction) -> bool:
        """Whether `other` lies wholly inside this one (grants only go downward)."""
        if self.kind is ScopeKind.DEPLOYMENT:
            return True
        if other.kind is ScopeKind.DEPLOYMENT:
            return False
        if self.kind is ScopeKind.DEPARTMENT:
            return other.kind is ScopeKind.DEPARTMENT and other.scope_id == self.scope_id
        if other.kind is ScopeKind.REGION:
            return self.kind is ScopeKind.REGION and other.region_ids <= self.region_ids
        return other.hall_ids <= self.hall_ids


def _subtree(session: Session, root: int) -> frozenset[int]:
    children: dict[int | None, list[int]] = {}
    for region_id, parent_id in session.execute(select(Region.id, Region.parent_id)):
        children.setdefault(parent_id, []).append(region_id)
    found, stack = {root}, [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return frozenset(found)


def jurisdiction_of(session: Session, *, kind: ScopeKind, scope_id: int) -> Jurisdiction:
    if kind is ScopeKind.DEPLOYMENT:  # covers everything: no id sets to load on every request
        return Jurisdiction(kind, 0, "*", frozenset(), frozenset(), frozenset())
    if kind is ScopeKind.DEPARTMENT:
        department = session.get(Department, scope_id)
        if department is None:
            raise ScopeError(f"department #{scope_id} no longer exists")
        hall = session.get(Hall, department.hall_id)
        assert hall is not None
        return Jurisdiction(
            kind,
            scope_id,
            department.code,
            frozenset({hall.region_id}),
            frozenset({hall.id}),
            frozenset({scope_id}),
        )
    if kind is ScopeKind.HALL:
        hall = session.get(Hall, scope_id)
        if hall is None:
            raise ScopeError(f"hall #{scope_id} no longer exists")
        regions, halls, code = frozenset({hall.region_id}), frozenset({scope_id}), hall.code
    else:
        region = session.get(Region, scope_id)
        if region is None:
            raise ScopeError(f"region #{scope_id} no longer exists")
        regions, code = _subtree(session, scope_id), region.code
        halls = frozenset(session.scalars(select(Hall.id).where(Hall.region_id.in_(sorted(regions)))))
    departments = frozenset(
        session.scalars(select(Department.id).where(Department.hall_id.in_(sorted(halls))))
    )
    return Jurisdiction(kind, scope_id, code, regions, halls, departments)


def resolve_scope_code(session: Session, code: str) -> tuple[ScopeKind, int]:
    """`*`, `region:510000`, `hall:510000-ZWFW`, `department:SCJGJ`, or a bare code that names one thing."""
    if code.strip() == "*":
        return ScopeKind.DEPLOYMENT, 0
    kind_text, _, bare = code.partition(":") if ":" in code else ("", "", code)
    columns = {
        ScopeKind.REGION: (Region.id, Region.code),
        ScopeKind.HALL: (Hall.id, Hall.code),
        ScopeKind.DEPARTMENT: (Department.id, Department.code),
    }
    if kind_text and kind_text not in columns:
        raise ScopeError(f"unknown scope kind {kind_text!r}; use region:, hall: or department:")
    kinds = [ScopeKind(kind_text)] if kind_text else list(columns)
    matches = [
        (kind, found)
        for kind in kinds
        if (found := session.scalar(select(columns[kind][0]).where(columns[kind][1] == bare))) is not None
    ]
    if not matches:
        raise ScopeError(f"no region, hall or department has the code {bare!r}")
    if len(matches) > 1:
        raise ScopeError(f"{bare!r} names several things; prefix it with region:, hall: or department:")
    return matches[0]


def is_deployment_wide(session: Session, jurisdiction: Jurisdiction) -> bool:
    """The deployment scope, or a region of level province (SC-13: the highest authority)."""
    if jurisdiction.kind is ScopeKind.DEPLOYMENT:
        return True
    if jurisdiction.kind is not ScopeKind.REGION:
        return False
    return session.scalar(select(Region.level).where(Region.id == jurisdiction.scope_id)) == "province"
