"""Evidence snapshots: a JPEG of the window at an event, privacy masks blacked out *before* encoding.

The masks (every mask of the camera: edge.video.privacy decides which) are filled black on a copy of
the frame before the encoder ever sees it, so no trace of what they cover can be recovered from the
JPEG (masking after encoding, or in the viewer, would leave it in the file). A caption band with the hall time, window, camera and
event is drawn below the picture, not over it, so it hides nothing the inspector needs. OpenCV's
Hershey fonts are ASCII only, hence the caption's Latin text; the page shows the zh-CN labels.

The observation (`EvidenceIn` at central) carries the JPEG base64-encoded with its SHA-256, which
central checks; it goes through the same loss-free outbox as everything else.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cv2
import numpy as np

from common.contract import EvidenceIn, EvidenceReason, Origin, to_wire
from edge.video.config import Point
from edge.video.privacy import MaskError, apply_privacy_masks
from edge.video.schedule import HALL_TZ

logger = logging.getLogger(__name__)

CAPTION_HEIGHT = 24  # at CAPTION_REFERENCE_WIDTH and below; wider pictures get a taller band
CAPTION_REFERENCE_WIDTH = 640
MAX_JPEG_BYTES = 1_000_000  # central accepts up to ~1.1 MB; quality steps down to stay under


class EvidenceError(ValueError):
    """The frame cannot be made into evidence (empty, wrong shape)."""


@dataclass(frozen=True)
class Snapshot:
    jpeg: bytes
    width: int
    height: int  # of the JPEG, caption band included
    sha256: str


def caption_text(*, at: datetime, window: str, camera: str, reason: str) -> str:
    local = at.astimezone(HALL_TZ)
    return f"{local:%Y-%m-%d %H:%M:%S} CST  window {window}  camera {camera}  {reason}"


def make_snapshot(
    image: np.ndarray,
    *,
    masks: Sequence[Sequence[Point]],
    caption: str,
    quality: int = 85,
) -> Snapshot:
    """Mask, add the caption band, encode as JPEG (lowering quality if it would be too large)."""
    try:
        masked = apply_privacy_masks(image, masks)
    except MaskError as exc:
        raise EvidenceError(f"evidence needs {exc}") from exc
    framed = _with_caption(masked, caption)
    for q in (quality, 70, 50, 30):
        ok, encoded = cv2.imencode(".jpg", framed, [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:
            raise EvidenceError("the JPEG encoder refused the frame")
        jpeg = encoded.tobytes()
        if len(jpeg) <= MAX_JPEG_BYTES:
            break
    else:
        raise EvidenceError(f"the frame stays over {MAX_JPEG_BYTES} bytes as a JPEG; lower the resolution")
    height, width = framed.shape[:2]
    return Snapshot(jpeg=jpeg, width=width, height=height, sha256=hashlib.sha256(jpeg).hexdigest())


def evidence_observation(
    snapshot: Snapshot,
    *,
    at: datetime,
    window: str,
    camera: str,
    reason: EvidenceReason,
    origin: Origin = "live",
    capture: str | None = None,
) -> dict[str, Any]:
    """The `evidence` observation of the edge ↔ central contract (id = f"{window}:ev:{ms}"; a patrol
    capture's snapshot: `capture_id`, the same for the same capture, so a command handed over twice
    stores one snapshot)."""
    observation = EvidenceIn(
        id=evidence_id(window=window, at=at) if capture is None else capture_id(capture, window, "snap"),
        kind="evidence",
        at=at,
        window=window,
        camera=camera,
        reason=reason,
        width=snapshot.width,
        height=snapshot.height,
        sha256=snapshot.sha256,
        jpeg_base64=base64.b64encode(snapshot.jpeg).decode("ascii"),
    )
    if origin != "live":  # set only when not live: to_wire leaves the default out
        observation.origin = origin
    if capture is not None:  # likewise: a central that predates captures gets no new field
        observation.capture = capture
    return to_wire(observation)


def evidence_id(*, window: str, at: datetime) -> str:
    return f"{window}:ev:{int(at.timestamp() * 1000)}"


def capture_id(capture: str, window: str, part: str) -> str:
    """The id of a patrol capture's `part` ("snap", "clip"): a digest, as the reference and the
    window together may be longer than an id."""
    digest = hashlib.sha256(f"{capture}\n{window}".encode()).hexdigest()[:32]
    return f"pc:{digest}:{part}"


def _with_caption(image: np.ndarray, caption: str) -> np.ndarray:
    """The band grows with the picture, so a 1080p snapshot's caption is as legible as a 640 one's."""
    width = image.shape[1]
    grow = max(1.0, width / CAPTION_REFERENCE_WIDTH)
    band_height = round(CAPTION_HEIGHT * grow)
    band = np.zeros((band_height, width, 3), dtype=np.uint8)
    scale = max(0.3, min(0.5, width / 1400)) * grow
    thickness = max(1, round(grow))
    baseline = band_height - round(8 * grow)
    cv2.putText(band, caption, (4, baseline), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness)
    return np.vstack([image, band])
