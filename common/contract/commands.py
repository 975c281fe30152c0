"""Commands, central → a hall's edge agent (keypads.md: GET /api/v1/device/commands): a discriminated
union on `kind`, one model a kind: `prompt` (show PROMPT on a window's keypad), `live_offer` and
`live_close` (live view signalling, `common.contract.live`), and `patrol_capture` (a finding's
snapshot and clip, `common.contract.capture`). A new kind adds its payload, its command model and a member of `Command` (the edge skips kinds it does
not know, so central may add kinds before every hall's agent is updated).

A command is its kind's payload (what central stores in `device_commands.payload`) flattened beside
the envelope fields `id`, `kind` and `expires_at`.
"""

from __future__ import annotations

import logging
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from common.contract.capture import PatrolCaptureCommand, PatrolCapturePayload
from common.contract.live import LiveCloseCommand, LiveClosePayload, LiveOfferCommand, LiveOfferPayload
from common.dates import AwareMoment

logger = logging.getLogger(__name__)

DEFAULT_PROMPT_TEXT = "请评价"


class _Tolerant(BaseModel):
    # The edge reads these: a field a newer central adds is ignored rather than stopping prompts.
    # Central always sends every field, so its response schema lists fields with defaults as required.
    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)


class PromptPayload(_Tolerant):
    """Ask the window's keypad to show who served the citizen and to rate the case (一事一评).
    Lengths are the staff table's and fit the keypad's PROMPT frame (3 UTF-8 bytes a character)."""

    KIND: ClassVar[str] = "prompt"

    window: str = Field(min_length=1, max_length=40)
    case_no: str = Field(min_length=1, max_length=64)
    staff_name: str | None = Field(default=None, max_length=60)
    staff_no: str | None = Field(default=None, max_length=40)
    text: str = Field(default=DEFAULT_PROMPT_TEXT, min_length=1, max_length=32)


class PromptCommand(PromptPayload):
    id: int = Field(ge=1)
    kind: Literal["prompt"]
    expires_at: AwareMoment


CommandPayload = PromptPayload | LiveOfferPayload | LiveClosePayload | PatrolCapturePayload
"""What central queues (`central.devices.command_kinds.queue_command`)."""

Command = Annotated[
    PromptCommand | LiveOfferCommand | LiveCloseCommand | PatrolCaptureCommand, Field(discriminator="kind")
]
"""One command as central sends it; more kinds join with `|`."""


class CommandPage(BaseModel):
    """The answer to a long-poll: the hall's due commands past the cursor, and the next cursor."""

    commands: list[Command]
    cursor: int = Field(ge=0)
