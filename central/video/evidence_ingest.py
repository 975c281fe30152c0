"""Evidence observations: masked JPEG snapshots the edge took on an event, checked before storing.

The bytes are untrusted. In order: the base64 must decode; its SHA-256 must be the one the item
names (a corrupted upload is rejected, not stored); it must be a JPEG (the FF D8 FF magic); the
frame header's size must match the claimed size and stay within `MAX_PIXELS` (a tiny file may claim
a gigapixel image: the header is read before anything is decoded); and OpenCV must decode it. Each
failure is a rejection that says which check failed. The snapshot is kept until the hall profile's
`presence.evidence_retention_days` after it was taken (`central.video.evidence` purges it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Sequence
from datetime import timedelta

import cv2
import numpy as np
from sqlalchemy import select

from central.core.clock import to_utc
from central.devices.service import ItemOutcome, ObservationContext
from central.registry.models import ServiceWindow
from central.video.jpeg import JpegError, jpeg_size
from central.video.models import Evidence, EvidenceImage
from central.video.recorded import LIVE_ALREADY, covered_by_live
from central.video.windows import device_windows, in_future, latest_sightings, note_cameras, unknown_window
from common.contract import EvidenceIn

logger = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000  # 8K is 33 Mpx; a snapshot larger than that is not a camera frame


def store_evidence(ctx: ObservationContext, items: Sequence[EvidenceIn]) -> dict[str, ItemOutcome]:
    session, device = ctx.session, ctx.device
    windows = device_windows(session, device=device, codes=(i.window for i in items))
    held = set(
        session.scalars(
            select(Evidence.observation_id).where(
                Evidence.device_id == device.device_id,
                Evidence.observation_id.in_(sorted({i.id for i in items})),
            )
        )
    )
    covered = covered_by_live(session, items=items, windows=windows, moment=lambda i: i.at)
    retention = timedelta(days=ctx.profile.presence.evidence_retention_days)
    results: dict[str, ItemOutcome] = {}
    seen = []
    for item in items:
        window = windows.get(item.window)
        if window is None:
            results[item.id] = unknown_window(device, item.window)
        elif item.id in held:
            results[item.id] = ItemOutcome("duplicate", "this evidence is stored")
        elif item.id in covered:
            results[item.id] = LIVE_ALREADY
        elif in_future(ctx.now, to_utc(item.at)):
            results[item.id] = ItemOutcome(
                "rejected", f"at {to_utc(item.at).isoformat()} is ahead of central's clock"
            )
        else:
            jpeg, problem = checked_jpeg(item)
            if jpeg is None:
                results[item.id] = ItemOutcome("rejected", problem)
                continue
            _add(ctx, window, item, jpeg, retention)
            if item.origin == "live":
                seen.append((window.id, item.camera, to_utc(item.at)))
            results[item.id] = ItemOutcome("stored")
    note_cameras(session, device=device, seen=latest_sightings(seen))
    session.flush()
    return results


def checked_jpeg(item: EvidenceIn) -> tuple[bytes | None, str]:
    """The JPEG bytes, or None and what is wrong with them."""
    try:
        data = base64.b64decode(item.jpeg_base64, validate=True)
    except (binascii.Error, ValueError):
        return None, "jpeg_base64 is not valid base64"
    digest = hashlib.sha256(data).hexdigest()
    if digest != item.sha256:
        return None, f"sha256 mismatch: the bytes hash to {digest}, the item says {item.sha256}"
    if not data.startswith(b"\xff\xd8\xff"):
        return None, "not a JPEG: the bytes do not start with the JPEG marker FF D8 FF"
    try:
        width, height = jpeg_size(data)
    except JpegError as exc:
        return None, f"not a readable JPEG: {exc}"
    if width * height > MAX_PIXELS:
        return None, f"the JPEG claims {width}x{height} pixels, more than {MAX_PIXELS} in all"
    if (width, height) != (item.width, item.height):
        return None, f"the JPEG is {width}x{height}, the item says {item.width}x{item.height}"
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None or image.shape[:2] != (height, width):
        return None, "the JPEG does not decode (truncated or corrupt)"
    return data, ""


def _add(
    ctx: ObservationContext, window: ServiceWindow, item: EvidenceIn, jpeg: bytes, retention: timedelta
) -> None:
    taken_at = to_utc(item.at)
    evidence = Evidence(
        device_id=ctx.device.device_id,
        observation_id=item.id,
        hall_id=window.hall_id,
        window_id=window.id,
        department_id=window.department_id,
        camera=item.camera,
        reason=item.reason,
        taken_at=taken_at,
        width=item.width,
        height=item.height,
        sha256=item.sha256,
        size_bytes=len(jpeg),
        received_at=ctx.now,
        expires_at=taken_at + retention,
        origin=item.origin,
    )
    ctx.session.add(evidence)
    ctx.session.flush()  # the image row needs the evidence id
    ctx.session.add(EvidenceImage(evidence_id=evidence.id, jpeg=jpeg))
    logger.info(
        "evidence %s of window %s stored as #%d (%d bytes)", item.id, window.code, evidence.id, len(jpeg)
    )


__all__ = ["MAX_PIXELS", "checked_jpeg", "store_evidence"]
