"""The monthly report's figures (电子监察月报): one pydantic model, stored as the report's JSON, served by
the API and rendered by the page and the PDF — so the three always show the same numbers.

Rates are fractions (0..1) rounded to 4 places, None when there is nothing to divide by; times are
hours rounded to 1 place. Long tables are cut to their first and last rows (`omitted` says how many
were left out): a province has thousands of departments and tens of thousands of staff."""

from __future__ import annotations

import logging
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VolumeRow(_Out):
    """办件量 of one department or item (or the total): received, accepted and closed in the month,
    open at its end; `decided` are the closed ones with a decision (办结 or 不予许可) and a due date,
    `on_time` those decided by their due date (the profile's 承诺/法定 basis, as the lights)."""

    code: str | None
    name: str
    hall_code: str | None = None
    department_name: str | None = None  # item rows: the item's department
    received: int = 0
    accepted: int = 0
    closed: int = 0
    open_at_end: int = 0
    decided: int = 0
    on_time: int = 0
    on_time_rate: float | None = None


class VolumeSection(_Out):
    total: VolumeRow
    by_department: list[VolumeRow]
    departments_omitted: int
    by_item: list[VolumeRow]
    items_omitted: int


class LightRow(_Out):
    code: str | None
    name: str
    hall_code: str | None = None
    green: int = 0
    yellow: int = 0
    red: int = 0
    unknown: int = 0  # no due date known (a missing calendar year, a case only received)


class LightsSection(_Out):
    as_of: date = Field(description="The day the lights are judged on: the month's last day (or today).")
    total: LightRow
    by_department: list[LightRow]
    departments_omitted: int


class SignalRow(_Out):
    """Signals raised in the month (by the colour they were raised with), corrections and escalations
    made in the month, and the hours from a signal's issue to its correction (of those corrected)."""

    code: str | None
    name: str
    hall_code: str | None = None
    raised: int = 0
    raised_green: int = 0
    raised_yellow: int = 0
    raised_red: int = 0
    corrected: int = 0
    escalated: int = 0
    mean_hours_to_correction: float | None = None
    median_hours_to_correction: float | None = None


class SignalsSection(_Out):
    total: SignalRow
    by_department: list[SignalRow]
    departments_omitted: int


class InvestigationsSection(_Out):
    """Investigations (SC-9) assigned in the month; reports made in the month, on time (by the due
    date, extensions included) or late; and at the month's end, those still open past or within
    their due date."""

    assigned: int = 0
    reported: int = 0
    reported_on_time: int = 0
    reported_late: int = 0
    open_past_due: int = 0
    open_within_due: int = 0
    on_time_rate: float | None = None


class RatingRow(_Out):
    code: str | None
    name: str
    hall_code: str | None = None
    count: int = 0
    weight: float = 0.0
    satisfaction_rate: float | None = None
    bad_count: int = 0
    followups: int = 0
    called_back: int = 0
    rectified: int = 0
    callback_rate: float | None = None
    rectified_rate: float | None = None


class RatingsSection(_Out):
    total: RatingRow
    by_department: list[RatingRow]
    departments_omitted: int


class AbsenceRow(_Out):
    code: str | None
    name: str
    hall_code: str | None = None
    confirmed: int = 0
    dismissed: int = 0
    pending: int = 0
    total: int = 0


class AbsencesSection(_Out):
    total: AbsenceRow
    by_department: list[AbsenceRow]
    departments_omitted: int


class PatrolBodyRow(_Out):
    code: str
    name: str
    level: str
    required: int
    done: int
    rate: float | None
    short_days: int


class FindingRow(_Out):
    category: str
    label: str
    total: int = 0
    confirmed: int = 0
    dismissed: int = 0
    pending: int = 0


class PatrolsSection(_Out):
    required: int = 0
    done: int = 0
    rate: float | None = None
    bodies: list[PatrolBodyRow]
    findings_total: int = 0
    findings: list[FindingRow]


class ScoreRow(_Out):
    rank: int
    code: str
    name: str
    hall_code: str
    department_name: str | None = None  # staff rows
    score: float
    last_month: float | None = None
    change: float | None = None


class ScoreTable(_Out):
    rows: list[ScoreRow]
    count: int
    omitted: int = 0


class ScoresSection(_Out):
    available: bool
    note: str | None = None  # zh-CN, when there are no scores
    day: date | None = None  # the month's last computed day
    last_month_day: date | None = None
    departments: ScoreTable
    staff: ScoreTable


class AttentionRow(_Out):
    code: str
    name: str
    hall_code: str
    reasons: list[str]
    score: float | None = None
    red_signals: int = 0
    on_time_rate: float | None = None


class AttentionSection(_Out):
    rule: str  # zh-CN: how departments were chosen
    rows: list[AttentionRow]


class MonthlyReportData(_Out):
    month: str = Field(description="YYYY-MM")
    scope_kind: str = Field(description="deployment | region | hall")
    scope_code: str
    scope_name: str
    scope_level: str | None = None  # province | city | county for a region; the hall's level
    period_start: date
    period_end: date
    data_until: date = Field(description="The month's last day, or today for the month still running.")
    complete: bool = Field(description="False while the month is still running.")
    computed_at: datetime
    volume: VolumeSection
    lights: LightsSection
    signals: SignalsSection
    investigations: InvestigationsSection
    ratings: RatingsSection
    absences: AbsencesSection
    patrols: PatrolsSection
    scores: ScoresSection
    attention: AttentionSection


__all__ = ["MonthlyReportData"]
