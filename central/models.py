"""Every table model, imported in one place so metadata and migrations see them all."""

from central.calendar.models import CalendarDay, CalendarYear
from central.cases.models import Case, CaseEvent
from central.core.db import Base
from central.registry.models import Department, Device, Hall, Item, Region, ServiceWindow, Staff

__all__ = [
    "Base",
    "CalendarDay",
    "CalendarYear",
    "Case",
    "CaseEvent",
    "Department",
    "Device",
    "Hall",
    "Item",
    "Region",
    "ServiceWindow",
    "Staff",
]
