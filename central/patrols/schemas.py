"""API shapes of the patrol plan (SC-6(1))."""

from __future__ import annotations

import logging
from datetime import date, datetime

from pydantic import BaseModel, Field

from central.core.types import Day

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
