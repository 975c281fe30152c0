"""Every table model, imported in one place so metadata and migrations see them all."""

from central.access.models import AccessToken, DeviceKey, User
from central.approvals.models import ApprovalRequest
from central.audit.models import AuditEntry, AuditHead
from central.calendar.models import CalendarDay, CalendarYear
from central.cases.models import Case, CaseEvent, CaseEventVoid
from central.core.db import Base
from central.investigations.models import Investigation
from central.ratings.models import (
    DeviceCommand,
    FollowUp,
    KeypadHealth,
    KeypadPress,
    Rating,
    RatingPrompt,
    RatingRevision,
)
from central.registry.models import Department, Device, Hall, Item, Region, ServiceWindow, Staff
from central.signals.models import Signal, SignalEvent, SignalRun

__all__ = [
    "AccessToken",
    "ApprovalRequest",
    "AuditEntry",
    "AuditHead",
    "Base",
    "CalendarDay",
    "CalendarYear",
    "Case",
    "CaseEvent",
    "CaseEventVoid",
    "Department",
    "Device",
    "DeviceCommand",
    "DeviceKey",
    "FollowUp",
    "Hall",
    "Investigation",
    "Item",
    "KeypadHealth",
    "KeypadPress",
    "Rating",
    "RatingPrompt",
    "RatingRevision",
    "Region",
    "ServiceWindow",
    "Signal",
    "SignalEvent",
    "SignalRun",
    "Staff",
    "User",
]
