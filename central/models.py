"""Every table model, imported in one place so metadata and migrations see them all."""

from central.access.models import AccessToken, DeviceKey, RefusalTally, SignInFailure, User
from central.anomalies.models import AnomalyHit, AnomalyRun
from central.approvals.models import ApprovalRequest
from central.audit.models import AuditEntry, AuditHead
from central.calendar.models import CalendarDay, CalendarYear
from central.cases.models import Case, CaseEvent, CaseEventVoid
from central.complaints.models import Complaint, ComplaintAttachment, ComplaintChallengeUse
from central.core.db import Base
from central.devices.models import DeviceClock, DeviceCommand, DeviceOutbox
from central.dualtrack.models import DualTrackJudgement, DualTrackRun
from central.investigations.models import Investigation
from central.jobs.models import JobRun
from central.live.models import LiveView
from central.patrols.models import (
    PatrolFinding,
    PatrolPlan,
    PatrolPoolMember,
    PatrolSession,
    PatrolShortfall,
    PatrolTask,
)
from central.public.models import PublicCaseRow, PublicFeedEvent, PublicFeedHall, PublicNotice
from central.ratings.models import (
    FollowUp,
    KeypadHealth,
    KeypadPress,
    Rating,
    RatingPrompt,
    RatingRevision,
)
from central.registry.models import Department, Device, Hall, Item, Region, ServiceWindow, Staff
from central.reports.models import MonthlyReport
from central.sampling.models import SampleCase, SampleDraw
from central.scores.models import ScoreCorrection, ScoreDay, ScoreLine, ScoreMonth, ScoreRun
from central.signals.models import Signal, SignalEvent, SignalRun
from central.video.models import (
    AbsenceEvent,
    AbsenceEvidence,
    CameraOutage,
    CameraState,
    Evidence,
    EvidenceImage,
    PresenceInterval,
    VisitorCount,
    WindowCamera,
)

__all__ = [
    "AbsenceEvent",
    "AbsenceEvidence",
    "AccessToken",
    "AnomalyHit",
    "AnomalyRun",
    "ApprovalRequest",
    "AuditEntry",
    "AuditHead",
    "Base",
    "CalendarDay",
    "CalendarYear",
    "CameraOutage",
    "CameraState",
    "Case",
    "CaseEvent",
    "CaseEventVoid",
    "Complaint",
    "ComplaintAttachment",
    "ComplaintChallengeUse",
    "Department",
    "Device",
    "DeviceClock",
    "DeviceCommand",
    "DeviceKey",
    "DeviceOutbox",
    "DualTrackJudgement",
    "DualTrackRun",
    "Evidence",
    "EvidenceImage",
    "FollowUp",
    "Hall",
    "Investigation",
    "Item",
    "JobRun",
    "KeypadHealth",
    "KeypadPress",
    "LiveView",
    "MonthlyReport",
    "PatrolFinding",
    "PatrolPlan",
    "PatrolPoolMember",
    "PatrolSession",
    "PatrolShortfall",
    "PatrolTask",
    "PresenceInterval",
    "PublicCaseRow",
    "PublicFeedEvent",
    "PublicFeedHall",
    "PublicNotice",
    "Rating",
    "RatingPrompt",
    "RatingRevision",
    "RefusalTally",
    "Region",
    "SampleCase",
    "SampleDraw",
    "ScoreCorrection",
    "ScoreDay",
    "ScoreLine",
    "ScoreMonth",
    "ScoreRun",
    "ServiceWindow",
    "SignInFailure",
    "Signal",
    "SignalEvent",
    "SignalRun",
    "Staff",
    "User",
    "VisitorCount",
    "WindowCamera",
]
