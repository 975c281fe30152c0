"""Rule profiles: the thresholds, deadlines, quotas and weights of one set of rules, as data.

The seeds complain that every locality built different rules (QTH part 2); a profile holds one
locality's rules so code never hard-codes them. Later capabilities add their own sections.
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from pydantic import Field, model_validator

from common.profiles.base import StrictModel
from common.profiles.dualtrack import DualTrackRules
from common.profiles.scoring import ScoringRules
from common.profiles.supervision import AnomalyRules, SamplingRules

logger = logging.getLogger(__name__)


class LightRules(StrictModel):
    due_basis: Literal["promised", "legal"] = Field(
        default="promised", description="Which due date drives the light (承诺时限 or 法定时限)."
    )
    yellow_remaining_workdays: int | None = Field(
        default=3,
        ge=0,
        le=60,
        description="Yellow when this many working days or fewer remain (QTH-2); null: no yellow.",
    )
    green_warning_on_due_date: bool = Field(
        default=False, description="Issue a green warning on the due date itself (SZ-10)."
    )


class ExtensionRules(StrictModel):
    max_times: int = Field(default=1, ge=0, le=5, description="Extensions allowed per case (LAW art. 42).")
    max_workdays: int = Field(default=10, ge=1, le=60, description="Working days one extension may add.")


class CorrectionRules(StrictModel):
    notify_within_days: int = Field(
        default=5, ge=1, le=30, description="Days to tell all corrections at once (LAW art. 32)."
    )


class SignalRules(StrictModel):
    light_signals: bool = Field(
        default=True, description="Yellow and red case lights raise signals of the same colour by themselves."
    )
    yellow_correct_within_workdays: int = Field(
        default=1,
        ge=1,
        le=10,
        description="A yellow signal not corrected within this many working days turns red (SZ-11).",
    )


class InvestigationRules(StrictModel):
    report_within_workdays: int = Field(
        default=15,
        ge=1,
        le=60,
        description="An investigation passed down reports within this many working days (SC-9).",
    )
    extension_max_workdays: int = Field(
        default=10,
        ge=0,
        le=30,
        description="One approved extension adds at most this many working days (SC-9).",
    )
    extension_max_times: int = Field(
        default=1, ge=0, le=3, description="Extensions allowed per investigation."
    )


class ComplaintRules(StrictModel):
    decide_within_workdays: int = Field(
        default=5,
        ge=1,
        le=30,
        description="An online complaint is accepted or refused within this many working days of its "
        "receipt (SZ-14); past it, undecided, it raises a signal.",
    )


class ApprovalRules(StrictModel):
    evidence_access_hours: int = Field(
        default=24,
        ge=1,
        le=720,
        description="How long an approved evidence view or export stays usable (SC-18).",
    )
    live_view_needs_grant: bool = Field(
        default=False,
        description="Watching a hall's cameras live needs an approved `live_view` request for that hall "
        "(SC-18 where a province reads it so); a grant stays usable for evidence_access_hours.",
    )


class RatingRules(StrictModel):
    prompt_valid_seconds: int = Field(
        default=180, ge=10, le=3600, description="How long after a case is served the next press binds to it."
    )
    correction_seconds: int = Field(
        default=10,
        ge=0,
        le=120,
        description="A second press this soon after the first replaces it (kept in history).",
    )
    burst_window_seconds: int = Field(
        default=5, ge=1, le=60, description="Presses this close together form a burst."
    )
    burst_min_presses: int = Field(
        default=3, ge=2, le=20, description="Presses in one window that count as a burst."
    )
    burst_weight: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Weight of a rating made in a burst (US20150186959A1 weights them down).",
    )
    unattended_weight: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Weight of a rating pressed while the window camera saw nobody at the counter: "
        "only the clerk could have pressed (RULES: a staff member must not rate themselves).",
    )
    bad_max_level: int = Field(
        default=2, ge=1, le=3, description="Levels at or below this are 差评 (不满意, 非常不满意)."
    )
    rectify_within_workdays: int = Field(
        default=15,
        ge=1,
        le=60,
        description="A 差评 is rectified within this many working days (Sichuan: 15).",
    )


DailyPeriod = Annotated[
    str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$", examples=["09:00-12:00"])
]


class PresenceRules(StrictModel):
    """Window staffing as the cameras judge it (SC-5, SC-6(1)); edge configs may override per window.

    Periods are "HH:MM-HH:MM" in hall time; absence (离岗) counts only inside working hours, outside
    breaks, on working days.
    """

    working_hours: list[DailyPeriod] = Field(
        default_factory=lambda: ["09:00-17:30"],
        min_length=1,
        max_length=8,
        description="When windows are staffed.",
    )
    breaks: list[DailyPeriod] = Field(
        default_factory=lambda: ["12:00-13:30"], max_length=8, description="Breaks inside working hours."
    )
    absence_threshold_minutes: float = Field(
        default=10, gt=0, le=480, description="An empty staff seat for longer than this is 离岗."
    )
    visit_min_seconds: float = Field(
        default=60, ge=1, le=3600, description="A citizen seated at the window this long is one visit."
    )
    evidence_retention_days: int = Field(
        default=180, ge=1, le=3650, description="Evidence snapshots are kept this long at central."
    )


class PatrolRules(StrictModel):
    """The daily video patrol quotas of each supervising body (SC-6(1)), per working day.

    0 by default: only a locality whose rules fix quotas (Sichuan's SC-6(1)) sets them.
    """

    province_centre_times: int = Field(
        default=0, ge=0, le=20, description="Patrols of the provincial service centre by the province."
    )
    province_cities_chosen: int = Field(
        default=0, ge=0, le=50, description="Cities (市/州) the province chooses to patrol each day."
    )
    province_counties_chosen: int = Field(
        default=0, ge=0, le=200, description="Counties (县/市/区) the province chooses to patrol each day."
    )
    chosen_times: int = Field(
        default=1, ge=1, le=10, description="Patrols of each centre the province chose that day."
    )
    city_centre_times: int = Field(default=0, ge=0, le=20, description="Patrols of its own centre by a city.")
    city_county_times: int = Field(
        default=0, ge=0, le=10, description="Patrols by a city of each of its counties' centres."
    )
    county_centre_times: int = Field(
        default=0, ge=0, le=20, description="Patrols of its own centre by a county."
    )
    min_viewing_seconds: int = Field(
        default=60,
        ge=0,
        le=3600,
        description="Video the browser decoded, and the edge agrees it sent, for a patrol to count.",
    )
    edge_report_wait_minutes: int = Field(
        default=10,
        ge=1,
        le=1440,
        description="How long an ended patrol waits for the edge's counts before it is judged without them.",
    )
    session_max_minutes: int = Field(
        default=240, ge=10, le=1440, description="An open patrol is ended by central after this long."
    )
    finding_clip_seconds: int = Field(
        default=10, ge=1, le=30, description="Seconds of video before a finding its clip holds."
    )


class RuleProfile(StrictModel):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="Stable id, e.g. sichuan-2011.")
    version: int = Field(ge=1, description="Bumped on every change to the file.")
    name: str = Field(min_length=1, description="Human name (zh-CN).")
    sources: list[str] = Field(default_factory=list, description="RULES.md ids the profile encodes.")
    lights: LightRules = Field(default_factory=LightRules)
    extension: ExtensionRules = Field(default_factory=ExtensionRules)
    correction: CorrectionRules = Field(default_factory=CorrectionRules)
    signals: SignalRules = Field(default_factory=SignalRules)
    investigations: InvestigationRules = Field(default_factory=InvestigationRules)
    complaints: ComplaintRules = Field(default_factory=ComplaintRules)
    approvals: ApprovalRules = Field(default_factory=ApprovalRules)
    ratings: RatingRules = Field(default_factory=RatingRules)
    presence: PresenceRules = Field(default_factory=PresenceRules)
    patrols: PatrolRules = Field(default_factory=PatrolRules)
    sampling: SamplingRules = Field(
        default_factory=SamplingRules, description="Sampling supervision (抽样监察, SC-6(4), SZ-9)."
    )
    anomalies: AnomalyRules = Field(
        default_factory=AnomalyRules, description="Data supervision's anomaly rules (数据监察, SC-6(2))."
    )
    dualtrack: DualTrackRules = Field(
        default_factory=DualTrackRules,
        description="Dual-track detection: visitors the cameras counted against cases recorded (QTH part 2).",
    )
    scoring: ScoringRules = Field(
        default_factory=ScoringRules,
        description="The performance scoring scheme (QTH-3, SZ-16..18); none by default: scores nothing.",
    )

    @model_validator(mode="after")
    def _verify(self) -> RuleProfile:
        verify_sources_cited(self)
        return self


def verify_sources_cited(profile: RuleProfile) -> None:
    if not profile.sources:
        raise ValueError("a profile must cite at least one rule source (e.g. SC-6.1)")
