"""Every table model, imported in one place so metadata and migrations see them all."""

from central.access.models import AccessToken, DeviceKey, User
from central.audit.models import AuditEntry, AuditHead
from central.calendar.models import CalendarDay, CalendarYear
from central.cases.models import Case, CaseEvent
from central.core.db import Base
from central.registry.models import Department, Device, Hall, Item, Region, ServiceWindow, Staff

__all__ = [
    "AccessToken",
    "AuditEntry",
    "AuditHead",
    "Base",
    "CalendarDay",
    "CalendarYear",
    "Case",
    "CaseEvent",
    "Department",
    "Device",
    "DeviceKey",
    "Hall",
    "Item",
    "Region",
    "ServiceWindow",
    "Staff",
    "User",
]
