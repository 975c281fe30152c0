"""The keypad wire protocol (docs/keypad-protocol.md): messages, frames, encoder and decoder.

This is the module the edge reader and the emulator import; it re-exports the two layers:
messages (what a frame carries) and framer (bytes on the line).
"""

from __future__ import annotations

import logging

from rating_device.framer import (
    BROADCAST,
    MAX_FRAME,
    START,
    DecoderStats,
    Frame,
    FrameDecoder,
    crc16,
    encode,
)
from rating_device.messages import (
    KEY_LABELS,
    MAX_PAYLOAD,
    Ack,
    Error,
    ErrorCode,
    Heartbeat,
    Hello,
    Key,
    Message,
    MessageType,
    Prompt,
)

logger = logging.getLogger(__name__)

# Reliability on the line (docs/keypad-protocol.md, "Reliability").
RETRANSMIT_INTERVAL_S = 0.3  # a KEY is sent again every 300 ms until ACKed …
MAX_RETRANSMITS = 5  # … at most 5 times after the first send (6 sends in all)

# The line (docs/keypad-protocol.md, "The line"): 9600 8N1 by default; the rates a keypad may be set to.
DEFAULT_BAUDRATE = 9600
STANDARD_BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


def baudrate_problem(baudrate: int) -> str | None:
    """Why `baudrate` cannot be a keypad line's speed (None: it can)."""
    if baudrate in STANDARD_BAUDRATES:
        return None
    return f"baudrate {baudrate} is not a standard rate; use one of {', '.join(map(str, STANDARD_BAUDRATES))}"


__all__ = [
    "BROADCAST",
    "DEFAULT_BAUDRATE",
    "KEY_LABELS",
    "MAX_FRAME",
    "MAX_PAYLOAD",
    "MAX_RETRANSMITS",
    "RETRANSMIT_INTERVAL_S",
    "STANDARD_BAUDRATES",
    "START",
    "Ack",
    "DecoderStats",
    "Error",
    "ErrorCode",
    "Frame",
    "FrameDecoder",
    "Heartbeat",
    "Hello",
    "Key",
    "Message",
    "MessageType",
    "Prompt",
    "baudrate_problem",
    "crc16",
    "encode",
]
