"""Registry tables: regions → halls → departments → windows → staff; devices; the item catalog."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.core.db import Base


class Region(Base):
    """A national administrative division (province → city/prefecture 市州 → county 县市区)."""

    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))  # province | city | county
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    rule_profile: Mapped[str | None] = mapped_column(String(64))  # None: inherit from parent

    parent: Mapped[Region | None] = relationship(remote_side=[id])


class Hall(Base):
    """A government service centre (政务服务中心) or sub-centre."""

    __tablename__ = "halls"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))  # provincial | city | county | sub_centre
    address: Mapped[str | None] = mapped_column(String(200))

    region: Mapped[Region] = relationship()


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)

    hall: Mapped[Hall] = relationship()


class ServiceWindow(Base):
    """A service window (窗口); codes are unique within a hall."""

    __tablename__ = "windows"
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)

    hall: Mapped[Hall] = relationship()
    department: Mapped[Department | None] = relationship()


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    department: Mapped[Department] = relationship()
    window: Mapped[ServiceWindow | None] = relationship()


class Device(Base):
    """A hall device: camera, rating keypad, display or edge box."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # camera | keypad | display | edge
    name: Mapped[str] = mapped_column(String(120))
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"))

    hall: Mapped[Hall] = relationship()
    window: Mapped[ServiceWindow | None] = relationship()


class Item(Base):
    """An item in the catalog (事项) with its legal and promised limits in working days."""

    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    legal_limit_days: Mapped[int] = mapped_column()
    promised_limit_days: Mapped[int | None] = mapped_column()
    stage_limits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fee: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    basis: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[str | None] = mapped_column(Text)
    materials: Mapped[list[str] | None] = mapped_column(JSON)

    department: Mapped[Department] = relationship()
