"""API shapes of the device endpoints: the device wire contract, which lives in `common.contract`
(shared with the edge agent). Re-exported here for code that still imports it from central."""

from __future__ import annotations

import logging

from common.contract import (
    AbsenceIn,
    CameraHealthIn,
    Command,
    CommandPage,
    EvidenceIn,
    KeypadHealthIn,
    KeypadPressIn,
    Observation,
    ObservationAnswer,
    ObservationBatch,
    ObservationResult,
    Outcome,
    PresenceIn,
    PromptCommand,
    VisitorCountIn,
    WatchedWindowIn,
)

logger = logging.getLogger(__name__)

__all__ = [
    "AbsenceIn",
    "CameraHealthIn",
    "Command",
    "CommandPage",
    "EvidenceIn",
    "KeypadHealthIn",
    "KeypadPressIn",
    "Observation",
    "ObservationAnswer",
    "ObservationBatch",
    "ObservationResult",
    "Outcome",
    "PresenceIn",
    "PromptCommand",
    "VisitorCountIn",
    "WatchedWindowIn",
]
