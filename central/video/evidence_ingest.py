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
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

import cv2
import numpy as np
from sqlalchemy import select

from central.core.clock import to_utc
from central.devices.service import ItemOutcome, ObservationContext
from central.registry.models import ServiceWindow
from central.video.jpeg import JpegError, jpeg_size
from central.video.models import JPEG, Evidence, EvidenceImage
from central.video.recorded import LIVE_ALREADY, WindowItem, covered_by_live
from central.video.windows import device_windows, in_future, latest_sightings, note_cameras, unknown_window
from common.contract import EvidenceIn

logger = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000  # 8K is 33 Mpx; a snapshot larger than that is not a camera frame


class MediaItem(WindowItem, Protocol):
    @property
    def camera(self) -> str: ...


MediaT = TypeVar("MediaT", bound=MediaItem)


def store_evidence(ctx: ObservationContext, items: Sequence[EvidenceIn]) -> dict[str, ItemOutcome]:
    return store_media(ctx, items, moment=lambda i: i.at, checked=checked_jpeg, row=_snapshot_row)


def store_media(
    ctx: ObservationContext,
    items: Sequence[MediaT],
    *,
    moment: Callable[[MediaT], datetime],
    checked: Callable[[MediaT], tuple[bytes | None, str]],
    row: Callable[[MediaT, ServiceWindow, bytes], Evidence],
) -> dict[str, ItemOutcome]:
    """Store each item's checked bytes as an `Evidence` with its `EvidenceImage`: snapshots and
    clips alike. An id already held is a duplicate; an unknown window, a moment ahead of central's
    clock or bytes that fail `checked` are rejected; a recording's item in an hour the live camera
    reported is not stored. Kept `presence.evidence_retention_days` after `moment(item)`."""
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
    covered = covered_by_live(session, items=items, windows=windows, moment=moment)
    retention = timedelta(days=ctx.profile.presence.evidence_retention_days)
    results: dict[str, ItemOutcome] = {}
    seen = []
    for item in items:
        window = windows.get(item.window)
        at = to_utc(moment(item))
        if window is None:
            results[item.id] = unknown_window(device, item.window)
        elif item.id in held:
            results[item.id] = ItemOutcome("duplicate", "this evidence is stored")
        elif item.id in covered:
            results[item.id] = LIVE_ALREADY
        elif in_future(ctx.now, at):
            results[item.id] = ItemOutcome("rejected", f"at {at.isoformat()} is ahead of central's clock")
        else:
            data, problem = checked(item)
            if data is None:
                results[item.id] = ItemOutcome("rejected", problem)
                continue
            evidence = row(item, window, data)
            evidence.device_id, evidence.observation_id = ctx.device.device_id, item.id
            evidence.hall_id, evidence.window_id = window.hall_id, window.id
            evidence.department_id = window.department_id
            evidence.taken_at, evidence.size_bytes = at, len(data)
            evidence.received_at, evidence.expires_at = ctx.now, at + retention
            evidence.origin = item.origin
            session.add(evidence)
            session.flush()  # the bytes' row needs the evidence id
            session.add(EvidenceImage(evidence_id=evidence.id, jpeg=data))
            logger.info(
                "%s %s of window %s stored as #%d (%d bytes)",
                evidence.media_type,
                item.id,
                window.code,
                evidence.id,
                len(data),
            )
            if item.origin == "live":
                seen.append((window.id, item.camera, at))
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


def _snapshot_row(item: EvidenceIn, window: ServiceWindow, jpeg: bytes) -> Evidence:
    return Evidence(
        camera=item.camera,
        reason=item.reason,
        width=item.width,
        height=item.height,
        sha256=item.sha256,
        media_type=JPEG,
        capture=item.capture,
    )


__all__ = ["MAX_PIXELS", "checked_jpeg", "store_evidence", "store_media"]
