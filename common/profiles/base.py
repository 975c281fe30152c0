"""The base of every rule-profile model: unknown keys are refused and a loaded profile is frozen."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
