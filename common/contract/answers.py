"""Central's answer to an observation batch, central → edge: one outcome per item, in the order sent."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel

logger = logging.getLogger(__name__)

Outcome = Literal["stored", "duplicate", "rejected"]


class ObservationResult(BaseModel):
    id: str
    outcome: Outcome
    detail: str | None = None


class ObservationAnswer(BaseModel):
    results: list[ObservationResult]
    stored: int
    duplicates: int
    rejected: int
