"""Supervising bodies (监察机构), derived from the registry (SC-6(1)).

Every region is the seat of a body: the provincial bureau, each city's and each county's; every
department of a hall has its supervision office. An inspector belongs to the body of their scope —
a region scope to that region's body, a department scope to that department's office; a hall or
the deployment scope is no body (the deployment's administrators oversee, they do not patrol).
Departments' offices patrol their own windows as their work needs: no quota, no daily task.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.models import User
from central.access.roles import Role
from central.patrols.schemas import BodyPublic
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.registry.models import Department, Hall, Region

logger = logging.getLogger(__name__)

LEVEL_NAMES = {"province": "省级", "city": "市（州）级", "county": "县（市、区）级"}


def supervising_bodies(session: Session, *, within: Jurisdiction) -> list[BodyPublic]:
    """The bodies inside the jurisdiction, regions first (by code), then departments' offices."""
    inspectors: dict[tuple[str, int], list[str]] = defaultdict(list)
    for username, kind, scope_id in session.execute(
        select(User.username, User.scope_kind, User.scope_id)
        .where(User.role == Role.INSPECTOR.value, User.active.is_(True))
        .order_by(User.username)
    ):
        inspectors[(kind, scope_id)].append(username)
    everywhere = within.kind is ScopeKind.DEPLOYMENT
    regions = session.execute(select(Region.id, Region.code, Region.name, Region.level).order_by(Region.code))
    bodies = [
        BodyPublic(
            kind="region",
            code=code,
            name=f"{name}电子监察机构",
            level=LEVEL_NAMES.get(level, level),
            has_quota=True,
            inspectors=inspectors[(ScopeKind.REGION.value, region_id)],
        )
        for region_id, code, name, level in regions
        if everywhere or (within.kind is ScopeKind.REGION and region_id in within.region_ids)
    ]
    departments = session.execute(
        select(Department.id, Department.code, Department.name, Hall.name)
        .join(Hall, Hall.id == Department.hall_id)
        .order_by(Department.code)
    )
    bodies += [
        BodyPublic(
            kind="department",
            code=code,
            name=f"{name}监察室（{hall_name}）",
            level="部门",
            has_quota=False,
            inspectors=inspectors[(ScopeKind.DEPARTMENT.value, department_id)],
        )
        for department_id, code, name, hall_name in departments
        if everywhere or department_id in within.department_ids
    ]
    return bodies
