"""The doctor's thresholds, each with its default and bounds (the CLI's options)."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)


class DoctorLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    calendar_days: int = Field(
        default=60, ge=1, le=366, description="The working-day calendar must cover this many days ahead."
    )
    checkpoint_max_age_minutes: float | None = Field(
        default=None,
        gt=0,
        le=30 * 24 * 60,
        description="The newest signed audit checkpoint may be this old while the chain has moved on; "
        "None: twice the checkpoint interval (HALLWATCH_AUDIT_CHECKPOINT_INTERVAL_SECONDS, or an hour).",
    )
    max_clock_skew_seconds: float = Field(
        default=5.0, gt=0, le=24 * 3600, description="An agent's clock may be this far from central's."
    )
    edge_silent_minutes: float = Field(
        default=10.0,
        gt=0,
        le=30 * 24 * 60,
        description="An edge agent unheard for longer is silent (it asks central's time every minute).",
    )
    display_silent_minutes: float = Field(
        default=120.0,
        gt=0,
        le=30 * 24 * 60,
        description="A display agent unheard for longer is silent (it refreshes its hall's data hourly).",
    )
    keypad_silent_minutes: float = Field(
        default=10.0,
        gt=0,
        le=30 * 24 * 60,
        description="A keypad whose health its agent last reported longer ago is silent.",
    )
