"""Read a JPEG's size from its frame header without decoding it (pure; untrusted bytes).

Walks the marker segments from SOI to the first SOFn frame header (baseline, progressive,
lossless, arithmetic: C0–CF except DHT C4, JPG C8 and DAC CC) and reads height and width there.
Anything malformed raises `JpegError` with where it went wrong.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

_NOT_FRAMES = {0xC4, 0xC8, 0xCC}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length


class JpegError(ValueError):
    """The bytes are not a JPEG this reader can size."""


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the first frame header."""
    if data[:2] != b"\xff\xd8":
        raise JpegError("no SOI marker at the start")
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise JpegError(f"expected a marker at byte {at}")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker in (0xD9, 0xDA):
            raise JpegError("no frame header before the image data")
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if length < 2:
            raise JpegError(f"bad segment length {length} at byte {at}")
        if 0xC0 <= marker <= 0xCF and marker not in _NOT_FRAMES:
            if at + 9 > len(data) or length < 7:
                raise JpegError("frame header cut short")
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            if width == 0 or height == 0:
                raise JpegError(f"frame header gives a size of {width}x{height}")
            return width, height
        at += 2 + length
    raise JpegError("the data ends before a frame header")
