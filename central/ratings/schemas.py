"""API shapes of what central does with ratings (HCP): follow-ups, figures, exclusion requests.
Separate from the table models; inputs forbid unknown fields."""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from central.core.types import Moment
from central.ratings.labels import FollowUpStatus, FollowUpStep

logger = logging.getLogger(__name__)

TEXT_MAX = 2000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CallbackIn(_In):
    """回访: who called the citizen, when, and what came of it (HCP: every 差评 is called back)."""

    result: str = Field(min_length=1, max_length=TEXT_MAX, description="What the citizen said.")
    called_by: str | None = Field(
        default=None, max_length=120, description="Who called; default: the signed-in user."
    )
    called_at: Moment | None = Field(
        default=None, description="When the call was made; default: now. Not before the rating."
    )


class RectifyIn(_In):
    """整改: what was done about the 差评."""

    rectification: str = Field(min_length=1, max_length=TEXT_MAX)


class CloseIn(_In):
    """Closing by an inspector, with the citizen's optional re-rating (5 非常满意 … 1 非常不满意)."""

    rerating_level: int | None = Field(default=None, ge=1, le=5)


class ExclusionIn(_In):
    """Ask for a mistaken or malicious 差评 to be excluded (decided through an approval, SC-18)."""

    reason: str = Field(min_length=1, max_length=TEXT_MAX)


class FollowUpOut(BaseModel):
    id: int
    rating_id: int
    level: int
    level_label: str
    rating_text: str | None
    channel: str
    rated_at: datetime
    rated_on: date
    burst: bool
    unattended: bool
    excluded: bool
    excluded_by_approval_id: int | None
    case_no: str | None
    hall_code: str
    hall_name: str
    department_code: str | None
    department_name: str | None
    window_code: str | None
    window_name: str | None
    staff_code: str | None
    staff_name: str | None
    status: FollowUpStatus
    status_label: str
    opened_at: datetime
    rectify_due: date | None = Field(
        description="Last working day to rectify; null while the calendar lacks the year."
    )
    overdue: bool = Field(description="Not rectified and past rectify_due (as of today, Shanghai).")
    callback_at: datetime | None
    callback_by: str | None
    callback_result: str | None
    rectified_at: datetime | None
    rectified_by: str | None
    rectification: str | None
    rerating_level: int | None
    closed_at: datetime | None
    allowed_steps: list[FollowUpStep] = Field(description="Steps the caller may take now.")


class FollowUpPage(BaseModel):
    as_of: date
    total: int
    page: int
    page_size: int
    items: list[FollowUpOut]


class FigureBy(StrEnum):
    WINDOW = "window"
    STAFF = "staff"
    DEPARTMENT = "department"
    HALL = "hall"
    DAY = "day"


class FigureRow(BaseModel):
    """Satisfaction of one group; see `central.ratings.figures` for the definitions."""

    key: str | None = Field(description="Code of the window/staff/department/hall, or the day; null: none.")
    label: str
    hall_code: str | None = None
    count: int = Field(description="Ratings counted (excluded ones left out).")
    weight: float = Field(
        description="Sum of the ratings' weights (bursts and unattended ratings weigh less)."
    )
    average_level: float | None = Field(description="Weighted mean level, 1..5.")
    satisfaction_rate: float | None = Field(description="好评率: weighted share of non-差评 ratings, 0..1.")
    bad_count: int = Field(description="差评 (levels at or below the profile's bad_max_level).")
    unattended_count: int = Field(
        description="Ratings pressed while the window camera saw nobody at the counter (weighted down)."
    )
    followups: int
    called_back: int
    rectified: int
    callback_rate: float | None = Field(description="Follow-ups called back ÷ follow-ups (HCP: 100%).")
    rectified_rate: float | None = Field(description="Follow-ups rectified (or closed) ÷ follow-ups.")


class FiguresOut(BaseModel):
    by: FigureBy
    date_from: date
    date_to: date
    total: FigureRow
    rows: list[FigureRow]


class RatingOut(BaseModel):
    """One rating as the dashboard lists it."""

    id: int
    level: int
    level_label: str
    channel: str
    rated_at: datetime
    case_no: str | None
    hall_name: str
    department_name: str | None
    window_name: str | None
    staff_name: str | None
    weight: float
    burst: bool
    unattended: bool = Field(description="Pressed while the window camera saw nobody at the counter.")
    excluded: bool
    followup_id: int | None
