"""The device wire contract between a hall and central (keypads.md), written once for both sides:
observations the edge uploads (`observations`), central's answer to a batch (`answers`), and the
commands central queues for a hall's agent (`commands`). Central validates what it receives and
answers with these models; the edge builds what it sends and parses what it gets with them."""

from common.contract.answers import ObservationAnswer, ObservationResult, Outcome
from common.contract.base import Origin
from common.contract.capture import (
    MAX_CLIP_BASE64,
    MAX_CLIP_SECONDS,
    ClipIn,
    PatrolCaptureCommand,
    PatrolCapturePayload,
)
from common.contract.commands import (
    DEFAULT_PROMPT_TEXT,
    Command,
    CommandPage,
    CommandPayload,
    PromptCommand,
    PromptPayload,
)
from common.contract.live import (
    IceServer,
    LiveCloseCommand,
    LiveClosePayload,
    LiveOfferCommand,
    LiveOfferPayload,
    LiveProfile,
    LiveRefusal,
    LiveReply,
)
from common.contract.observations import (
    AbsenceIn,
    CameraHealthIn,
    EvidenceIn,
    EvidenceReason,
    KeypadHealthIn,
    KeypadPressIn,
    LiveViewIn,
    Observation,
    ObservationBatch,
    PresenceIn,
    VisitorCountIn,
    VisitSpanIn,
    WatchedWindowIn,
    to_wire,
)

__all__ = [
    "DEFAULT_PROMPT_TEXT",
    "MAX_CLIP_BASE64",
    "MAX_CLIP_SECONDS",
    "AbsenceIn",
    "CameraHealthIn",
    "ClipIn",
    "Command",
    "CommandPage",
    "CommandPayload",
    "EvidenceIn",
    "EvidenceReason",
    "IceServer",
    "KeypadHealthIn",
    "KeypadPressIn",
    "LiveCloseCommand",
    "LiveClosePayload",
    "LiveOfferCommand",
    "LiveOfferPayload",
    "LiveProfile",
    "LiveRefusal",
    "LiveReply",
    "LiveViewIn",
    "Observation",
    "ObservationAnswer",
    "ObservationBatch",
    "ObservationResult",
    "Origin",
    "Outcome",
    "PatrolCaptureCommand",
    "PatrolCapturePayload",
    "PresenceIn",
    "PromptCommand",
    "PromptPayload",
    "VisitSpanIn",
    "VisitorCountIn",
    "WatchedWindowIn",
    "to_wire",
]
