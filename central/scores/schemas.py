"""API shapes of the published scores (SZ-19): a day's ranking and one subject's month, explained line by
line. Separate from the table models; query parameters forbid unknown fields."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.core.types import Day
from central.registry.document import CODE_PATTERN, REGION_CODE_PATTERN
from common.profiles.scoring import ScoreLevel

logger = logging.getLogger(__name__)

MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"  # the system's years (2000..2099), ASCII digits only
SelectionKind = Literal["deployment", "region", "hall"]


class PlaceQuery(BaseModel):
    """Where and when: a hall, a region or (neither) the caller's whole jurisdiction, on one day."""

    model_config = ConfigDict(extra="forbid")
    day: Day | None = Field(default=None, description="Shanghai day; default: the last day scored.")
    hall: str | None = Field(default=None, max_length=40, pattern=CODE_PATTERN, description="A hall's code.")
    region: str | None = Field(default=None, pattern=REGION_CODE_PATTERN, description="A region's code.")

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        if self.hall and self.region:
            raise ValueError("give hall or region, not both")
        return self


class RankingQuery(PlaceQuery):
    """`GET /api/v1/scores`: one level's ranking of one day."""

    level: ScoreLevel = Field(default="department", description="staff | window | department | hall.")
    page: int = Field(default=1, ge=1, le=1_000_000)
    page_size: int = Field(default=100, ge=1, le=10_000)


class SummaryQuery(PlaceQuery):
    """`GET /api/v1/scores/summary`: the selection's halls as a whole."""


class MonthQuery(BaseModel):
    """`GET /api/v1/scores/{level}/{code}`: the month shown (default: the subject's last scored month)."""

    model_config = ConfigDict(extra="forbid")
    month: str | None = Field(default=None, pattern=MONTH_PATTERN, description="YYYY-MM.")


class Named(BaseModel):
    code: str
    name: str


class DimensionOut(BaseModel):
    code: str
    name: str
    weight: float = Field(description="Full marks of the dimension in a month.")


class SchemeOut(BaseModel):
    """The scoring scheme of a rule profile (common.profiles.scoring) the rows were computed with."""

    profile_key: str
    total: float
    dimensions: list[DimensionOut]


class UnscoredHall(Named):
    """A hall whose rule profile has no scoring scheme: it is never scored (no rows)."""

    profile_key: str


class SelectionOut(BaseModel):
    kind: SelectionKind
    code: str = Field(description="The hall's or region's code; * for the whole deployment.")
    name: str


class RankingRow(BaseModel):
    rank: int = Field(description="1 for the highest month score; equal scores share a rank.")
    subject: Named = Field(description="A window's code is HALL:WINDOW (window codes repeat across halls).")
    hall: Named
    department: Named | None
    month_score: float = Field(description="The scheme's total plus every current line of the month so far.")
    day_points: float = Field(description="The sum of the day's lines.")
    dimensions: dict[str, float] = Field(description="Dimension code → its score (within [0, weight]).")
    profile_key: str
    revision: int = Field(description="1, or more once the day was recomputed after an approval.")


class RankingOut(BaseModel):
    level: ScoreLevel
    day: date | None = Field(description="Null when nothing in the selection was ever scored.")
    selection: SelectionOut
    schemes: list[SchemeOut] = Field(description="The schemes of the rows, one per rule profile.")
    unscored_halls: list[UnscoredHall]
    total: int
    page: int
    page_size: int
    rows: list[RankingRow]


class SubjectOut(BaseModel):
    level: ScoreLevel
    code: str
    name: str
    hall: Named
    department: Named | None


class TrendPoint(BaseModel):
    day: date
    month_score: float
    day_points: float


class DimensionScore(DimensionOut):
    score: float | None = Field(description="The last scored day's; null when the month has none yet.")


class BreakdownOut(BaseModel):
    """One scheme's dimensions, averaged over the selection's halls it scored on the day."""

    scheme: SchemeOut
    halls: int
    month_score: float = Field(description="Those halls' month score, averaged.")
    dimensions: list[DimensionScore] = Field(description="Each dimension's score, averaged.")


class SummaryOut(BaseModel):
    day: date | None = Field(description="Null when nothing in the selection was ever scored.")
    selection: SelectionOut
    trend: list[TrendPoint] = Field(description="The day's month through the day, the halls averaged.")
    breakdown: list[BreakdownOut]
    unscored_halls: list[UnscoredHall]


class LineOut(BaseModel):
    day: date
    rule_code: str
    rule_label: str
    dimension: str
    dimension_name: str
    points: float
    explanation: str = Field(description="A zh-CN sentence, e.g. 红灯 1 件 × −10 = −10.")
    source_kind: str
    source_id: int | None
    link: str | None = Field(description="The console page of the source record, where there is one.")


class EarlierFigure(BaseModel):
    """A figure replaced by a recomputation (issue 17 item 3): kept visible, with the reason."""

    day: date
    revision: int
    month_score: float
    day_points: float
    computed_at: datetime
    superseded_at: datetime | None
    reason: str | None
    now_score: float | None = Field(description="The day's current month score.")


class SubjectMonthOut(BaseModel):
    subject: SubjectOut
    month: str
    scored: bool = Field(description="False: the hall's rule profile has no scoring scheme.")
    profile_key: str | None
    total: float | None = Field(description="The scheme's full marks.")
    last_day: date | None = Field(description="The month's last scored day.")
    month_score: float | None
    trend: list[TrendPoint]
    dimensions: list[DimensionScore]
    lines: list[LineOut]
    earlier: list[EarlierFigure]


__all__ = [
    "MONTH_PATTERN",
    "BreakdownOut",
    "DimensionOut",
    "DimensionScore",
    "EarlierFigure",
    "LineOut",
    "MonthQuery",
    "Named",
    "PlaceQuery",
    "RankingOut",
    "RankingQuery",
    "RankingRow",
    "SchemeOut",
    "SelectionOut",
    "SubjectMonthOut",
    "SubjectOut",
    "SummaryOut",
    "SummaryQuery",
    "TrendPoint",
    "UnscoredHall",
]
