"""Framing: turning messages into bytes on the serial line and bytes back into frames.

Frame (docs/keypad-protocol.md)::

    0xA5 | LEN u16 | TYPE u8 | DEVICE u16 | SEQ u16 | PAYLOAD (LEN bytes) | CRC u16

All numbers big-endian. The CRC is CRC-16/IBM-3740 (a.k.a. CRC-16/CCITT-FALSE: poly 0x1021, init
0xFFFF, no reflection, no final xor) over everything between the start byte and the CRC. The
standard library's ``binascii.crc_hqx`` computes exactly this CRC in C, so no CRC package is needed.

The decoder is incremental and never raises: it scans for the start byte, rejects a header whose
length is impossible for its type at once, waits for the rest, checks the CRC, and on any failure
drops only the start byte and scans again from the next byte — so a real frame hidden behind a false
start is still found. Its buffer never holds more than one maximal frame.
"""

from __future__ import annotations

import binascii
import logging
import struct
from dataclasses import dataclass, fields

from rating_device.messages import (
    MAX_PAYLOAD,
    PAYLOAD_BOUNDS,
    U16_MAX,
    Message,
    MessageType,
    decode_payload,
)

logger = logging.getLogger(__name__)

START = 0xA5
HEADER_SIZE = 8  # start, length (2), type, device id (2), seq (2)
CRC_SIZE = 2
OVERHEAD = HEADER_SIZE + CRC_SIZE
MAX_FRAME = OVERHEAD + MAX_PAYLOAD
BROADCAST = 0xFFFF  # a device id that every keypad on the line accepts (keypads use 0..65534)
CRC_INIT = 0xFFFF
_HEADER = struct.Struct(">BHBHH")
_PROBE = 4  # bytes needed to judge the length against the type: start, length, type


def crc16(data: bytes) -> int:
    """CRC-16/IBM-3740 (poly 0x1021, init 0xFFFF, refin/refout false, xorout 0); check 0x29B1."""
    return binascii.crc_hqx(data, CRC_INIT)


@dataclass(frozen=True)
class Frame:
    device_id: int
    seq: int
    message: Message

    def __post_init__(self) -> None:
        for name in ("device_id", "seq"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U16_MAX:
                raise ValueError(f"{name} must be an int between 0 and {U16_MAX}, got {value!r}")
        if not isinstance(self.message, Message):
            raise ValueError(f"message must be a protocol message, got {type(self.message).__name__}")


def encode(frame: Frame) -> bytes:
    """The frame's bytes on the line. Raises ValueError (naming the field) for an invalid message."""
    message = frame.message
    payload = message.to_payload()
    header = _HEADER.pack(START, len(payload), message.TYPE, frame.device_id, frame.seq)
    body = header[1:] + payload
    return header[:1] + body + struct.pack(">H", crc16(body))


@dataclass
class DecoderStats:
    """What the decoder has seen; a keypad's health report sums bad_crc, bad_length and bad_payload."""

    frames: int = 0  # good frames returned
    garbage_bytes: int = 0  # bytes skipped while looking for a start (incl. rejected start bytes)
    bad_crc: int = 0  # candidate frames whose CRC did not match
    bad_length: int = 0  # headers with a length impossible for their type (or an unknown type)
    bad_payload: int = 0  # good CRC, but the payload did not parse or failed validation

    @property
    def bad_frames(self) -> int:
        return self.bad_crc + self.bad_length + self.bad_payload

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _plausible(length: int, type_code: int) -> bool:
    try:
        low, high = PAYLOAD_BOUNDS[MessageType(type_code)]
    except ValueError:
        return False
    return low <= length <= high


class FrameDecoder:
    """Incremental decoder: feed it whatever bytes arrive, get back the complete good frames."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.stats = DecoderStats()

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a possible frame (never more than MAX_FRAME)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        """The good frames completed by these bytes, in order. Never raises on any input."""
        self._buffer += data
        frames: list[Frame] = []
        pos = self._scan(frames)
        del self._buffer[:pos]
        return frames

    def flush(self) -> list[Frame]:
        """The line went quiet: give up on a frame still waiting for bytes, and rescan after it.

        A frame is sent back to back, so a silence of a few character times (the edge uses a read
        that returned nothing after 50 ms) means the bytes held are all there will be: a false start
        or a frame cut short. Each abandoned candidate counts in `bad_length`. Never raises.
        """
        frames: list[Frame] = []
        while self._buffer:
            self.stats.bad_length += 1
            self.stats.garbage_bytes += 1
            del self._buffer[:1]
            del self._buffer[: self._scan(frames)]
        return frames

    def _scan(self, frames: list[Frame]) -> int:
        buf, stats = self._buffer, self.stats
        size, pos = len(buf), 0
        while True:
            start = buf.find(START, pos)
            if start < 0:
                stats.garbage_bytes += size - pos
                return size
            stats.garbage_bytes += start - pos
            pos = start
            if size - pos < _PROBE:
                return pos
            length = (buf[pos + 1] << 8) | buf[pos + 2]
            if not _plausible(length, buf[pos + 3]):
                stats.bad_length += 1
                stats.garbage_bytes += 1
                pos += 1
                continue
            end = pos + OVERHEAD + length
            if end > size:
                return pos
            pos = self._take(bytes(buf[pos:end]), pos, end, frames)

    def _take(self, raw: bytes, pos: int, end: int, frames: list[Frame]) -> int:
        """Judge one candidate frame; answers where scanning goes on."""
        stats = self.stats
        body, crc = raw[1:-CRC_SIZE], (raw[-2] << 8) | raw[-1]
        if crc16(body) != crc:
            stats.bad_crc += 1
            stats.garbage_bytes += 1
            return pos + 1
        _, _, type_code, device_id, seq = _HEADER.unpack_from(raw)
        try:
            message = decode_payload(type_code, raw[HEADER_SIZE:-CRC_SIZE])
        except ValueError as exc:
            stats.bad_payload += 1
            logger.debug("bad payload from device %s seq %s: %s", device_id, seq, exc)
            return end
        frames.append(Frame(device_id, seq, message))
        stats.frames += 1
        return end
