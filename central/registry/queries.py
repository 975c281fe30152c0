"""Read the registry for the API and the pages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.registry.models import Department, Hall, Item, Region, ServiceWindow, Staff
from central.registry.schemas import (
    DepartmentPublic,
    HallPublic,
    ItemPublic,
    RegionPublic,
    StaffPublic,
    WindowPublic,
)


def list_regions(session: Session) -> list[RegionPublic]:
    parent = aliased(Region)
    rows = session.execute(
        select(Region, parent.code).outerjoin(parent, parent.id == Region.parent_id).order_by(Region.code)
    )
    return [
        RegionPublic(code=r.code, name=r.name, level=r.level, parent_code=p, rule_profile=r.rule_profile)
        for r, p in rows
    ]


def list_halls(session: Session, *, within: Jurisdiction | None = None) -> list[HallPublic]:
    query = select(Hall, Region.code).join(Region, Region.id == Hall.region_id).order_by(Hall.code)
    if within is not None and within.kind is not ScopeKind.DEPLOYMENT:
        query = query.where(Hall.id.in_(sorted(within.hall_ids)))
    rows = session.execute(query)
    return [HallPublic(code=h.code, name=h.name, level=h.level, region_code=rc) for h, rc in rows]


def list_departments(
    session: Session, *, hall_code: str | None = None, within: Jurisdiction | None = None
) -> list[DepartmentPublic]:
    query = select(Department, Hall.code).join(Hall, Hall.id == Department.hall_id).order_by(Department.code)
    if within is not None and within.kind is not ScopeKind.DEPLOYMENT:
        query = query.where(Department.id.in_(sorted(within.department_ids)))
    if hall_code:
        query = query.where(Hall.code == hall_code)
    return [DepartmentPublic(code=d.code, name=d.name, hall_code=hc) for d, hc in session.execute(query)]


def list_windows(
    session: Session, *, hall_code: str | None = None, within: Jurisdiction | None = None
) -> list[WindowPublic]:
    query = (
        select(ServiceWindow, Hall.code, Department.code)
        .join(Hall, Hall.id == ServiceWindow.hall_id)
        .outerjoin(Department, Department.id == ServiceWindow.department_id)
        .order_by(Hall.code, ServiceWindow.code)
    )
    if within is not None and within.kind is ScopeKind.DEPARTMENT:
        query = query.where(ServiceWindow.department_id == within.scope_id)
    elif within is not None and within.kind is not ScopeKind.DEPLOYMENT:
        query = query.where(ServiceWindow.hall_id.in_(sorted(within.hall_ids)))
    if hall_code:
        query = query.where(Hall.code == hall_code)
    return [
        WindowPublic(code=w.code, name=w.name, hall_code=hc, department_code=dc)
        for w, hc, dc in session.execute(query)
    ]


def list_staff(
    session: Session, *, department_code: str | None = None, within: Jurisdiction | None = None
) -> list[StaffPublic]:
    query = (
        select(Staff, Department.code, ServiceWindow.code)
        .join(Department, Department.id == Staff.department_id)
        .outerjoin(ServiceWindow, ServiceWindow.id == Staff.window_id)
        .order_by(Staff.code)
    )
    if within is not None and within.kind is not ScopeKind.DEPLOYMENT:
        query = query.where(Staff.department_id.in_(sorted(within.department_ids)))
    if department_code:
        query = query.where(Department.code == department_code)
    return [
        StaffPublic(code=s.code, name=s.name, department_code=dc, window_code=wc)
        for s, dc, wc in session.execute(query)
    ]


def list_items(session: Session, *, department_code: str | None = None) -> list[ItemPublic]:
    query = (
        select(Item, Department.code)
        .join(Department, Department.id == Item.department_id)
        .order_by(Item.code)
    )
    if department_code:
        query = query.where(Department.code == department_code)
    return [
        ItemPublic(
            code=i.code,
            name=i.name,
            department_code=dc,
            legal_limit_days=i.legal_limit_days,
            promised_limit_days=i.promised_limit_days,
            stage_limits=i.stage_limits,
            fee=i.fee,
            basis=i.basis,
            conditions=i.conditions,
            materials=i.materials,
        )
        for i, dc in session.execute(query)
    ]
