"""Clip observations: the WebM (VP8) clip of a patrol finding's capture (`common.contract.ClipIn`),
checked before storing as an `Evidence` of media type video/webm, its bytes in `EvidenceImage`.

The bytes are untrusted, and a video demuxer and decoder are a larger attack surface than a JPEG
header, so the cheap checks come first. In order: the base64 must decode; its SHA-256 must be the one
the item names; it must start with the EBML magic (1A 45 DF A3) every WebM file starts with; its size
and the claimed picture size must stay within bounds; then PyAV opens it as Matroska/WebM only (no
format probing), its one video stream must be VP8 (the only codec the edge's live encoder makes)
no larger than `MAX_PIXELS`, its first frame must decode, and that frame's size must be the claimed
one. Each failure is a rejection naming the check. Retention and duplicates are those of snapshots
(`central.video.evidence_ingest.store_media`); the clip is dated by its first frame.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
from collections.abc import Sequence

import av

from central.devices.service import ItemOutcome, ObservationContext
from central.registry.models import ServiceWindow
from central.video.evidence_ingest import MAX_PIXELS, store_media
from central.video.models import WEBM, Evidence
from common.contract import MAX_CLIP_BASE64, ClipIn

logger = logging.getLogger(__name__)

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
MIN_CLIP_BYTES = 64  # an EBML header and one frame are more than this
MAX_CLIP_BYTES = MAX_CLIP_BASE64 * 3 // 4
CODECS = ("vp8",)


def store_clips(ctx: ObservationContext, items: Sequence[ClipIn]) -> dict[str, ItemOutcome]:
    return store_media(ctx, items, moment=lambda i: i.started_at, checked=checked_webm, row=_clip_row)


def checked_webm(item: ClipIn) -> tuple[bytes | None, str]:
    """The WebM bytes, or None and what is wrong with them."""
    try:
        data = base64.b64decode(item.webm_base64, validate=True)
    except (binascii.Error, ValueError):
        return None, "webm_base64 is not valid base64"
    digest = hashlib.sha256(data).hexdigest()
    if digest != item.sha256:
        return None, f"sha256 mismatch: the bytes hash to {digest}, the item says {item.sha256}"
    if not data.startswith(EBML_MAGIC):
        return None, "not a WebM file: the bytes do not start with the EBML magic 1A 45 DF A3"
    if not MIN_CLIP_BYTES <= len(data) <= MAX_CLIP_BYTES:
        return None, f"the clip has {len(data)} bytes, outside {MIN_CLIP_BYTES}..{MAX_CLIP_BYTES}"
    if item.width * item.height > MAX_PIXELS:
        return None, f"the item claims {item.width}x{item.height} pixels, more than {MAX_PIXELS} in all"
    try:
        width, height = _first_frame_size(data)
    except ClipError as exc:
        return None, f"the clip does not decode: {exc}"
    if (width, height) != (item.width, item.height):
        return None, f"the clip is {width}x{height}, the item says {item.width}x{item.height}"
    return data, ""


class ClipError(ValueError):
    """The WebM cannot be opened or its first frame decoded."""


def _first_frame_size(data: bytes) -> tuple[int, int]:
    """The size of the clip's first decoded frame (the container's claim is checked first)."""
    try:
        with av.open(io.BytesIO(data), mode="r", format="matroska") as container:
            if not container.streams.video:
                raise ClipError("it has no video stream")
            stream = container.streams.video[0]
            codec = stream.codec_context.name
            if codec not in CODECS:
                raise ClipError(f"its video is {codec}, not VP8")
            declared = stream.codec_context.width * stream.codec_context.height
            if declared > MAX_PIXELS:
                raise ClipError(f"its stream declares {declared} pixels, more than {MAX_PIXELS}")
            for frame in container.decode(stream):
                return frame.width, frame.height
    except av.FFmpegError as exc:
        raise ClipError(str(exc)) from exc
    raise ClipError("no frame decodes")


def _clip_row(item: ClipIn, window: ServiceWindow, webm: bytes) -> Evidence:
    return Evidence(
        camera=item.camera,
        reason="patrol_finding",
        width=item.width,
        height=item.height,
        sha256=item.sha256,
        media_type=WEBM,
        capture=item.capture,
        duration_ms=item.duration_ms,
    )


__all__ = ["checked_webm", "store_clips"]
