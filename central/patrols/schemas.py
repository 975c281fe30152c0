"""API shapes of the patrol plan (SC-6(1))."""

from __future__ import annotations

import logging
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from central.core.types import Day
from central.exports.tables import ExportFormat
from central.patrols.findings_kinds import FindingCategory, FindingStatus
from common.contract.live import VIEWER_PATTERN

logger = logging.getLogger(__name__)


class PlanQuery(BaseModel):
    date: Day | None = Field(default=None, description="The working day (hall time); today when absent.")


class RegionRef(BaseModel):
    code: str
    name: str


class PatrolTaskPublic(BaseModel):
    id: int
    body: RegionRef = Field(description="The supervising body (its region) that owes the patrol.")
    hall_code: str
    hall_name: str
    region: RegionRef = Field(description="The region of the centre to patrol.")
    reason: str = Field(description="own_centre | chosen_city | chosen_county | city_county")
    reason_label: str
    seq: int = Field(description="1..n: the n patrols a body owes the same centre that day.")
    inspector: str | None = Field(description="The inspector the patrol is assigned to (None: nobody).")


class PlanPublic(BaseModel):
    day: date
    working_day: bool = Field(description="False: no patrols on a day off (holidays, weekends).")
    published_at: datetime | None = None
    key_id: str | None = Field(default=None, description="Which draw key drew the plan (auditors).")
    drawn: dict[str, list[RegionRef]] = Field(
        default_factory=dict, description="Per province pool, the regions drawn that day, in draw order."
    )
    gaps: list[RegionRef] = Field(
        default_factory=list, description="Regions a quota names that have no service centre registered."
    )
    patrols: list[PatrolTaskPublic] = Field(default_factory=list, description="In the caller's jurisdiction.")


class BodyPublic(BaseModel):
    kind: str = Field(description="region (a bureau: province, city, county) | department (its office)")
    code: str = Field(description="The region's or the department's code.")
    name: str
    level: str
    has_quota: bool = Field(description="Daily patrol quotas (SC-6(1)); a department's office has none.")
    inspectors: list[str] = Field(description="Usernames of the body's active inspectors.")


# --- patrol sessions (issue 15 item 4) ---------------------------------------------------------------


class PatrolStartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task: int | None = Field(default=None, ge=1, description="A task of today's plan (GET /patrols/plan).")
    hall: str | None = Field(
        default=None, min_length=1, max_length=40, description="Or a hall, for an unplanned patrol."
    )


class ViewingIn(BaseModel):
    """One view's WebRTC statistics as the browser reads them (inbound-rtp)."""

    model_config = ConfigDict(extra="forbid")
    viewer: str = Field(pattern=VIEWER_PATTERN)
    frames_decoded: int = Field(ge=0, le=2**31 - 1)
    packets_received: int = Field(ge=0, le=2**31 - 1)


class ViewingBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    views: list[ViewingIn] = Field(min_length=1, max_length=100)


class PatrolEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(
        default=None, max_length=300, description="Why the patrol ends early or could not be done."
    )


class FindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: str = Field(min_length=1, max_length=40, description="The window's code.")
    category: FindingCategory
    note: str = Field(default="", max_length=500)


class FindingPublic(BaseModel):
    id: int
    window: str
    window_name: str
    camera: str
    category: FindingCategory
    category_label: str
    note: str
    at: datetime
    inspector: str
    snapshot: int | None = Field(description="Evidence id of the masked snapshot, once the edge sent it.")
    clip: int | None = Field(description="Evidence id of the masked WebM clip, once the edge sent it.")
    patrol: int = Field(description="The patrol session it was recorded in.")
    hall_code: str
    status: FindingStatus = Field(description="pending | confirmed | dismissed (a finding is never deleted).")
    status_label: str
    reviewed_by: str | None = Field(description="Who confirmed or dismissed it (actor label).")
    reviewed_at: datetime | None
    review_note: str | None = Field(description="The reviewer's note; a dismissal's reason.")
    signal_id: int | None = Field(description="The signal confirming raised (SC-9: it may be investigated).")
    absence_id: int | None = Field(
        description="A confirmed 离岗: the camera's absence record of that moment."
    )
    absence_url: str | None = Field(description="The absence on its hall's video page.")


class PatrolViewPublic(BaseModel):
    viewer: str
    camera: str
    profile: str
    outcome: str
    frames_decoded: int | None
    packets_received: int | None
    edge_frames_sent: int | None
    edge_packets_sent: int | None


class PatrolPublic(BaseModel):
    id: int
    task: int | None
    hall_code: str
    hall_name: str
    inspector: str
    day: date
    started_at: datetime
    ended_at: datetime | None
    state: str = Field(description="open | judging | complete | incomplete")
    state_label: str
    verdict: str | None = Field(description="Why it does not count (zh-CN), once judged.")
    watched_seconds: float | None = Field(description="Viewing proven by browser and edge together.")
    end_note: str | None
    views: list[PatrolViewPublic]
    findings: list[FindingPublic]


# --- compliance (issue 15 item 5) ------------------------------------------------------------------


class ComplianceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: str | None = Field(
        default=None, pattern=r"^20\d\d-(0[1-9]|1[0-2])$", description="YYYY-MM; this month when absent."
    )


class ComplianceExportQuery(ComplianceQuery):
    format: ExportFormat


class BodyCompliance(BaseModel):
    code: str = Field(description="The supervising body's region code.")
    name: str
    level: str
    required: int = Field(description="Patrols the month's plans required of the body (to date).")
    done: int = Field(description="Of those, patrols complete with proof of viewing.")
    rate: float | None = Field(description="done / required (None: nothing required).")
    short_days: list[date] = Field(description="Ended working days the body was short of its quota.")
    shortfalls_raised: int = Field(description="Of those days, the shortfalls central has raised.")


class ComplianceMonth(BaseModel):
    month: str
    until: date = Field(description="Counted up to this day (today for the current month).")
    bodies: list[BodyCompliance]


# --- reviewing findings (issue 15 item 5) -------------------------------------------------------------


class FindingReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(
        default=None, max_length=500, description="Why (required to dismiss: 不予认定 needs a reason)."
    )


class FindingListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    status: FindingStatus | None = None
    hall: str | None = Field(default=None, min_length=1, max_length=40, description="A hall's code.")
    page: int = Field(default=1, ge=1, le=1_000_000)
    page_size: int = Field(default=50, ge=1, le=500)


class FindingPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[FindingPublic]
