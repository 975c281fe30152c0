"""API shapes of the dual-track judgement (separate from the table models)."""

from __future__ import annotations

import logging
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from central.dualtrack.rule import BaselineSource, Method, Outcome
from central.video.schemas import EvidenceRef

logger = logging.getLogger(__name__)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HourOut(_Out):
    hour: int = Field(description="Shanghai clock hour (9 = 09:00–10:00).")
    visits: int | None = Field(description="Visits the camera counted; null: no count (not compared).")
    cases: int = Field(
        description="Cases recorded at the window whose first event that day fell in the hour."
    )
    over: bool = Field(description="More visitors than the baseline expects.")


class JudgementOut(_Out):
    id: int
    day: date
    hall_code: str
    hall_name: str
    window_code: str
    window_name: str
    department_code: str | None
    outcome: Outcome
    outcome_label: str
    method: Method = Field(
        description="visits: served-length visits against those a case was entered during (the edge "
        "reported each visit); counts: every counted visit against the cases recorded."
    )
    visits: int = Field(description="Visits compared (method visits: served-length visits only).")
    cases: int = Field(description="Cases in the same hours (method visits: the visits with a case).")
    excess: int = Field(description="Visits − cases in the hours with a camera count.")
    expected: float = Field(description="Visits × baseline share: the excess enquiries explain.")
    beyond: float = Field(description="Excess − expected.")
    baseline_share: float
    baseline_source: BaselineSource
    baseline_days: int
    z: float | None
    critical: float | None
    z_rest: float | None = Field(description="z of the day without its worst hour (persistence).")
    why: list[str] = Field(description="zh-CN: the conditions not met (empty when flagged).")
    hours: list[HourOut]
    signal_id: int | None
    evidence: list[EvidenceRef] = Field(
        description="Snapshots of the window in the hours beyond the expected: metadata only; the image "
        "needs an approved evidence_view grant (SC-18, /api/v1/evidence/{id}/image)."
    )
    computed_at: datetime


class JudgementPage(_Out):
    total: int
    page: int
    page_size: int
    items: list[JudgementOut]


__all__ = ["HourOut", "JudgementOut", "JudgementPage"]
