"""What the observation models share: the strict base (central's view of an untrusted body), the
window and camera codes, and where footage came from. Its own module so that observation kinds kept
beside their commands (`common.contract.capture`) and the `Observation` union both import it."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


WindowCode = Annotated[str, Field(min_length=1, max_length=40)]
CameraCode = Annotated[str, Field(min_length=1, max_length=40)]

Origin = Literal["live", "recording"]
ORIGIN_FIELD_DESCRIPTION = (
    "live: a camera as it happened; recording: footage analysed afterwards (hallwatch edge analyse), "
    "never counted as live and never stored where the live camera already reported the hour."
)

# A patrol finding's reference at central (e.g. "finding-12"): what a capture's snapshot and clip carry.
CaptureRef = Annotated[str, Field(min_length=1, max_length=64)]
