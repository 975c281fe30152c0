"""Dual-track detection rules (双轨运行 / 体外循环, RULES "What the seeds say goes wrong", QTH part 2).

The camera counts the citizens served at a window each hour; the window records cases. A window
whose visitors exceed its recorded cases by more than enquiries explain, persistently over a day, is
suspected of handling cases off the system. `central.dualtrack.rule` holds the test these numbers
feed; its docstring explains each one.
"""

from __future__ import annotations

import logging

from pydantic import Field, model_validator

from common.profiles.base import StrictModel

logger = logging.getLogger(__name__)


class DualTrackRules(StrictModel):
    enabled: bool = Field(default=True, description="Judge the windows of halls under this profile daily.")
    enquiry_allowance: float = Field(
        default=0.25,
        ge=0,
        le=0.9,
        description="The most of a window's counted visitors that may leave no case (enquiries, "
        "materials incomplete): a window's own usual share is used below it, never above it.",
    )
    service_median_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Where the edge reports each visit: a visit at least this share of the window's "
        "median visit that day is taken as served (a case is expected during it); a shorter one as an "
        "enquiry, left out of the test. Relative, because a window's business sets its pace.",
    )
    service_min_seconds: int = Field(
        default=60, ge=0, le=3600, description="…and at least this long, whatever the median."
    )
    match_before_seconds: int = Field(
        default=120,
        ge=0,
        le=1800,
        description="A case entered at the window this long before the citizen sat down still belongs "
        "to the visit (the clerk opened it as the citizen approached).",
    )
    match_after_seconds: int = Field(
        default=600,
        ge=0,
        le=7200,
        description="…or this long after the citizen left (the clerk finished the entry), unless the "
        "next visit had begun.",
    )
    unmatched_allowance: float = Field(
        default=0.15,
        ge=0,
        le=0.9,
        description="Where the edge reports each visit: the most of a window's served-length visits that "
        "may have no case entered during them (long enquiries, consultations): the cap on the window's "
        "own usual share, and the baseline without history.",
    )
    false_alarm_rate: float = Field(
        default=0.005,
        gt=0,
        le=0.05,
        description="One-sided significance of the day's test: the chance a fully recorded window-day "
        "exceeds the critical value by chance alone.",
    )
    min_visits: int = Field(
        default=40, ge=10, le=5000, description="Fewer counted visitors in a day: too few to judge."
    )
    min_excess_visits: int = Field(
        default=5, ge=1, le=1000, description="Visitors beyond the expected that a flag needs at least."
    )
    min_excess_share: float = Field(
        default=0.05,
        ge=0,
        le=0.5,
        description="…and at least this share of the day's visitors (a tiny shift on a huge day is no "
        "case for an inspector).",
    )
    min_hours: int = Field(
        default=2, ge=1, le=16, description="Hours, at least, with more visitors than expected."
    )
    rest_of_day_alpha: float = Field(
        default=0.05,
        gt=0,
        le=0.5,
        description="Persistence: without its worst hour, the rest of the day must still exceed the "
        "expected at this one-sided significance (one odd hour, e.g. a miscounting camera, is not enough).",
    )
    baseline_days: int = Field(
        default=42,
        ge=7,
        le=366,
        description="Calendar days looked back for the window's own usual share (its unflagged judged days).",
    )
    baseline_min_days: int = Field(
        default=10,
        ge=3,
        le=200,
        description="Judged days the window's own baseline needs; with fewer, the allowance is the baseline.",
    )
    dispersion_without_history: float = Field(
        default=2.0,
        ge=1,
        le=10,
        description="Without a baseline, the spread per visitor is this many times the binomial one of "
        "the allowance (enquiries vary by day; some visitors file two cases; cameras miss a few).",
    )
    judge_delay_minutes: int = Field(
        default=120,
        ge=0,
        le=24 * 60,
        description="A day is judged this long after it ends (the deployment's default profile), so "
        "counts an agent uploads after a reconnect are in.",
    )

    @model_validator(mode="after")
    def _baseline_fits(self) -> DualTrackRules:
        if self.baseline_min_days > self.baseline_days:
            raise ValueError("baseline_min_days cannot exceed baseline_days")
        return self


__all__ = ["DualTrackRules"]
