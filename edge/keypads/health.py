"""A keypad's health as the reader sees it, and the observations that report it to central.

Health is reported on every change of online/firmware and at least every `health_every_seconds`.
A keypad that has not come online yet is first reported (offline) once `offline_after_seconds` have
passed, so a keypad that needs a moment to say HELLO after the port opens is not flagged offline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common.contract import KeypadHealthIn, to_wire
from edge.config import KeypadConfig

logger = logging.getLogger(__name__)

REFUSED_RETRY_S = 10.0  # a health report the outbox refused is tried again after this long


@dataclass(frozen=True)
class KeypadStatus:
    """A snapshot of one reader: what it reports to central, and counters for logs and tests."""

    keypad: str
    window: str
    connected: bool  # the port is open
    online: bool  # the port is open and the keypad spoke within offline_after_seconds
    firmware: str | None
    last_heartbeat_at: datetime | None
    bad_frames: int  # frames with a bad CRC, impossible length or unparsable payload (all connections)
    garbage_bytes: int
    frames: int  # good frames received
    presses: int  # distinct presses stored in the outbox
    reconnects: int  # times the port was opened again after being lost
    refused: int = 0  # distinct presses the outbox refused (a full disk): not ACKed


def health_observation(status: KeypadStatus, *, obs_id: str, at: datetime) -> dict[str, Any]:
    """The keypad_health observation of the edge ↔ central contract."""
    return to_wire(
        KeypadHealthIn(
            id=obs_id,
            kind="keypad_health",
            at=at,
            window=status.window,
            keypad=status.keypad,
            online=status.online,
            firmware=status.firmware,
            last_heartbeat_at=status.last_heartbeat_at,
            bad_frames=status.bad_frames,
            reconnects=status.reconnects,
        )
    )


class HealthSchedule:
    """Decides when a health report is due (monotonic seconds), and makes unique report ids."""

    def __init__(self, config: KeypadConfig, started: float) -> None:
        self.config = config
        self._reported: tuple[bool, str | None] | None = None
        self._next_due = started + config.offline_after_seconds
        self._last_id_ms = 0
        self._held_until = 0.0

    def due(self, status: KeypadStatus, now: float) -> bool:
        if now < self._held_until:
            return False
        state = (status.online, status.firmware)
        if self._reported is None:
            return status.online or now >= self._next_due
        was_online = self._reported[0]
        return (state != self._reported and (status.online or was_online)) or now >= self._next_due

    def reported(self, status: KeypadStatus, now: float) -> None:
        if self._reported is None or self._reported[0] != status.online:
            logger.info("keypad %s (window %s) %s", status.keypad, status.window, _words(status))
        self._reported = (status.online, status.firmware)
        self._next_due = now + self.config.health_every_seconds

    def refused(self, now: float) -> None:
        """The outbox refused the report (a full disk): try again a while later, not on every loop."""
        self._held_until = now + min(REFUSED_RETRY_S, self.config.health_every_seconds)

    def next_id(self, wall_ms: int) -> str:
        """f"{keypad}:health:{ms}", strictly increasing even within one millisecond (≤ 62 chars)."""
        self._last_id_ms = max(wall_ms, self._last_id_ms + 1)
        return f"{self.config.name}:health:{self._last_id_ms}"


def _words(status: KeypadStatus) -> str:
    if status.online:
        return f"online (firmware {status.firmware})"
    return "offline (port open, keypad silent)" if status.connected else "offline (port not open)"
