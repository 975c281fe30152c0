"""API shapes of the device endpoints (keypads.md): observations in, commands out.

An observation is a discriminated union on `kind`. A new kind (the camera observations of a later
issue: presence, absence, health, visitor counts) adds its model to `Observation` below and
registers a handler with `central.observations.service.register`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeypadPressIn(_Strict):
    """A KEY frame the edge agent stored (id = f"{keypad}:{seq}:{uptime_ms}")."""

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["keypad_press"]
    at: AwareDatetime = Field(description="Edge clock when the KEY frame arrived.")
    window: str = Field(min_length=1, max_length=40)
    keypad: str = Field(min_length=1, max_length=60)
    seq: int = Field(ge=0, le=65535)
    key: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    uptime_ms: int = Field(ge=0, le=2**32 - 1)  # a u32 on the wire


class KeypadHealthIn(_Strict):
    id: str = Field(min_length=1, max_length=64)
    kind: Literal["keypad_health"]
    at: AwareDatetime
    window: str = Field(min_length=1, max_length=40)
    keypad: str = Field(min_length=1, max_length=60)
    online: bool
    firmware: str | None = Field(default=None, max_length=40)
    last_heartbeat_at: AwareDatetime | None = None
    bad_frames: int = Field(ge=0, le=2**31 - 1)
    reconnects: int = Field(ge=0, le=2**31 - 1)


Observation = Annotated[KeypadPressIn | KeypadHealthIn, Field(discriminator="kind")]


class ObservationBatch(_Strict):
    observations: list[Observation] = Field(
        min_length=1, description="1..max_batch_events items (413 beyond); all or nothing."
    )


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


class CommandOut(BaseModel):
    id: int
    kind: Literal["prompt"]
    window: str
    case_no: str
    staff_name: str | None
    staff_no: str | None
    text: str
    expires_at: datetime


class CommandPage(BaseModel):
    commands: list[CommandOut]
    cursor: int
