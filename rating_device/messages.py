"""Keypad protocol messages: what each frame type carries and how its payload is laid out.

The layouts are documented in docs/keypad-protocol.md. Every message validates itself when it is
built, so an invalid message cannot be encoded (a clear ValueError names the field); decoding a
payload raises ValueError too, which the frame decoder counts as a bad payload and never lets out.
Numbers are big-endian; strings are UTF-8 with a one-byte length prefix.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Self

logger = logging.getLogger(__name__)

U16_MAX = 0xFFFF
U32_MAX = 0xFFFF_FFFF
KEY_MIN, KEY_MAX = 1, 5

# Per-field limits in UTF-8 bytes. A 60-character Chinese staff name and a 64-character case number
# (the lengths central stores) fit; the limits keep the largest frame small for a 9600-baud line.
FIRMWARE_MAX_BYTES = 32
STAFF_NAME_MAX_BYTES = 180
STAFF_NO_MAX_BYTES = 120
CASE_NO_MAX_BYTES = 192
PROMPT_TEXT_MAX_BYTES = 96
ERROR_TEXT_MAX_BYTES = 200

# Key labels (RULES "Satisfaction ratings"): 5 非常满意 … 1 非常不满意; 2 and 1 are 差评.
KEY_LABELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


class MessageType(IntEnum):
    HELLO = 0x01
    PROMPT = 0x02
    KEY = 0x03
    ACK = 0x04
    HEARTBEAT = 0x05
    ERROR = 0x06


class ErrorCode(IntEnum):
    """Codes an ERROR frame may carry (either direction); receivers log them and carry on."""

    BAD_FRAME = 1  # the receiver counted a frame with a bad CRC or length
    BAD_PAYLOAD = 2  # a frame's payload did not parse
    UNSUPPORTED = 3  # a well-formed message this side does not handle
    DISPLAY = 4  # the keypad could not show a prompt


def _check_int(value: int, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")


def _utf8(value: str, name: str, max_bytes: int) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a str, got {type(value).__name__}")
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{name} is not encodable as UTF-8: {exc.reason}") from exc
    if len(data) > max_bytes:
        raise ValueError(f"{name} is {len(data)} bytes in UTF-8, at most {max_bytes} fit in a frame")
    return data


def _field(value: str, name: str, max_bytes: int) -> bytes:
    """A length-prefixed UTF-8 string."""
    data = _utf8(value, name, max_bytes)
    return bytes((len(data),)) + data


class _Reader:
    """Reads a payload front to back; any shortfall, leftover or bad value raises ValueError."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, size: int) -> bytes:
        end = self._pos + size
        if end > len(self._data):
            raise ValueError(f"payload ends at byte {len(self._data)}, needed {end}")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        value: int = struct.unpack(">H", self.take(2))[0]
        return value

    def u32(self) -> int:
        value: int = struct.unpack(">I", self.take(4))[0]
        return value

    def text(self, name: str, max_bytes: int) -> str:
        size = self.u8()
        if size > max_bytes:
            raise ValueError(f"{name} claims {size} bytes, at most {max_bytes}")
        try:
            return self.take(size).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{name} is not valid UTF-8") from exc

    def end(self) -> None:
        if self._pos != len(self._data):
            raise ValueError(f"{len(self._data) - self._pos} unexpected bytes after the payload")


@dataclass(frozen=True)
class Hello:
    """Keypad → edge on power-up, replug and when the host opens the port; edge → keypad asks for one."""

    firmware: str
    TYPE: ClassVar[MessageType] = MessageType.HELLO

    def __post_init__(self) -> None:
        _utf8(self.firmware, "firmware", FIRMWARE_MAX_BYTES)

    def to_payload(self) -> bytes:
        return _field(self.firmware, "firmware", FIRMWARE_MAX_BYTES)

    @classmethod
    def from_payload(cls, data: bytes) -> Self:
        reader = _Reader(data)
        firmware = reader.text("firmware", FIRMWARE_MAX_BYTES)
        reader.end()
        return cls(firmware)


@dataclass(frozen=True)
class Prompt:
    """Edge → keypad: show who served the citizen and ask for a rating (一次一评)."""

    staff_name: str
    staff_no: str
    case_no: str
    text: str = "请评价"
    TYPE: ClassVar[MessageType] = MessageType.PROMPT
    LIMITS: ClassVar[tuple[tuple[str, int], ...]] = (
        ("staff_name", STAFF_NAME_MAX_BYTES),
        ("staff_no", STAFF_NO_MAX_BYTES),
        ("case_no", CASE_NO_MAX_BYTES),
        ("text", PROMPT_TEXT_MAX_BYTES),
    )

    def __post_init__(self) -> None:
        self.to_payload()

    def to_payload(self) -> bytes:
        return b"".join(_field(getattr(self, name), name, limit) for name, limit in self.LIMITS)

    @classmethod
    def from_payload(cls, data: bytes) -> Self:
        reader = _Reader(data)
        values = [reader.text(name, limit) for name, limit in cls.LIMITS]
        reader.end()
        return cls(*values)


@dataclass(frozen=True)
class Key:
    """Keypad → edge: a key press, 1..5 (5 非常满意 … 1 非常不满意), at the keypad's uptime in ms."""

    key: int
    uptime_ms: int
    TYPE: ClassVar[MessageType] = MessageType.KEY

    def __post_init__(self) -> None:
        _check_int(self.key, "key", KEY_MIN, KEY_MAX)
        _check_int(self.uptime_ms, "uptime_ms", 0, U32_MAX)

    def to_payload(self) -> bytes:
        return struct.pack(">BI", self.key, self.uptime_ms)

    @classmethod
    def from_payload(cls, data: bytes) -> Self:
        reader = _Reader(data)
        key, uptime = reader.u8(), reader.u32()
        reader.end()
        return cls(key, uptime)


@dataclass(frozen=True)
class Ack:
    """Acknowledges the frame with that seq (the edge ACKs KEY, the keypad ACKs PROMPT)."""

    seq: int
    TYPE: ClassVar[MessageType] = MessageType.ACK

    def __post_init__(self) -> None:
        _check_int(self.seq, "seq", 0, U16_MAX)

    def to_payload(self) -> bytes:
        return struct.pack(">H", self.seq)

    @classmethod
    def from_payload(cls, data: bytes) -> Self:
        reader = _Reader(data)
        seq = reader.u16()
        reader.end()
        return cls(seq)


@dataclass(frozen=True)
class Heartbeat:
    """Keypad → edge, periodically: still here, with the uptime in ms."""

    uptime_ms: int
    TYPE: ClassVar[MessageType] = MessageType.HEARTBEAT

    def __post_init__(self) -> None:
        _check_int(self.uptime_ms, "uptime_ms", 0, U32_MAX)

    def to_payload(self) -> bytes:
        return struct.pack(">I", self.uptime_ms)

    @classmethod
    def from_payload(cls, data: bytes) -> Self:
        reader = _Reader(data)
        uptime = reader.u32()
        reader.end()
        return cls(uptime)


@dataclass(frozen=True)
class Error:
    """Either direction: something went wrong on the sender's side (see ErrorCode)."""

    code: int
    text: str
    TYPE: ClassVar[MessageType] = MessageType.ERROR

    def __post_init__(self) -> None:
        _check_int(self.code, "code", 0, 0xFF)
        _utf8(self.text, "text", ERROR_TEXT_MAX_BYTES)

    def to_payload(self) -> bytes:
        return bytes((self.code,)) + _field(self.text, "text", ERROR_TEXT_MAX_BYTES)

    @classmethod
    def from_payload(cls, data: bytes) -> Self:
        reader = _Reader(data)
        code = reader.u8()
        text = reader.text("text", ERROR_TEXT_MAX_BYTES)
        reader.end()
        return cls(code, text)


Message = Hello | Prompt | Key | Ack | Heartbeat | Error

MESSAGE_CLASSES: dict[MessageType, type[Message]] = {
    cls.TYPE: cls for cls in (Hello, Prompt, Key, Ack, Heartbeat, Error)
}

# The payload lengths each type can have, used by the decoder to reject an impossible header early.
PAYLOAD_BOUNDS: dict[MessageType, tuple[int, int]] = {
    MessageType.HELLO: (1, 1 + FIRMWARE_MAX_BYTES),
    MessageType.PROMPT: (
        4,
        4 + STAFF_NAME_MAX_BYTES + STAFF_NO_MAX_BYTES + CASE_NO_MAX_BYTES + PROMPT_TEXT_MAX_BYTES,
    ),
    MessageType.KEY: (5, 5),
    MessageType.ACK: (2, 2),
    MessageType.HEARTBEAT: (4, 4),
    MessageType.ERROR: (2, 2 + ERROR_TEXT_MAX_BYTES),
}
MAX_PAYLOAD = max(high for _, high in PAYLOAD_BOUNDS.values())


def decode_payload(type_code: int, payload: bytes) -> Message:
    """The message a payload of that type holds; ValueError when it holds none."""
    try:
        cls = MESSAGE_CLASSES[MessageType(type_code)]
    except ValueError as exc:
        raise ValueError(f"unknown message type 0x{type_code:02x}") from exc
    return cls.from_payload(payload)
