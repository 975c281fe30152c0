"""Public shapes of registry records."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RegionPublic(_Public):
    code: str
    name: str
    level: str
    parent_code: str | None = None
    rule_profile: str | None = None


class HallPublic(_Public):
    code: str
    name: str
    level: str
    region_code: str


class DepartmentPublic(_Public):
    code: str
    name: str
    hall_code: str


class WindowPublic(_Public):
    code: str
    name: str
    hall_code: str
    department_code: str | None


class StaffPublic(_Public):
    code: str
    name: str
    department_code: str
    window_code: str | None


class ItemPublic(_Public):
    code: str
    name: str
    department_code: str
    legal_limit_days: int
    promised_limit_days: int | None
    stage_limits: dict[str, int] | None = None
    fee: Decimal
    basis: str | None = None
    conditions: str | None = None
    materials: list[str] | None = None
