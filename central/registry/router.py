"""Registry API: read regions, halls, departments, windows, staff and items; import a document."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from central.core.deps import SessionDep
from central.registry import queries
from central.registry.schemas import (
    DepartmentPublic,
    HallPublic,
    ItemPublic,
    RegionPublic,
    StaffPublic,
    WindowPublic,
)

router = APIRouter(tags=["registry"])
Code = Annotated[str | None, Query(max_length=40)]


@router.get("/regions", response_model=list[RegionPublic])
def read_regions(session: SessionDep) -> list[RegionPublic]:
    return queries.list_regions(session)


@router.get("/halls", response_model=list[HallPublic])
def read_halls(session: SessionDep) -> list[HallPublic]:
    return queries.list_halls(session)


@router.get("/departments", response_model=list[DepartmentPublic])
def read_departments(session: SessionDep, hall: Code = None) -> list[DepartmentPublic]:
    return queries.list_departments(session, hall_code=hall)


@router.get("/windows", response_model=list[WindowPublic])
def read_windows(session: SessionDep, hall: Code = None) -> list[WindowPublic]:
    return queries.list_windows(session, hall_code=hall)


@router.get("/staff", response_model=list[StaffPublic])
def read_staff(session: SessionDep, department: Code = None) -> list[StaffPublic]:
    return queries.list_staff(session, department_code=department)


@router.get("/items", response_model=list[ItemPublic])
def read_items(session: SessionDep, department: Code = None) -> list[ItemPublic]:
    return queries.list_items(session, department_code=department)
