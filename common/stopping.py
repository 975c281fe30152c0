"""Stopping a long-running command cleanly: systemd's stop (SIGTERM) and ^C (SIGINT) set one event
that the command's main loop waits on, so it finishes what it is doing instead of dying mid-write."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

logger = logging.getLogger(__name__)


def stop_on_signals(saying: str = "stopping") -> threading.Event:
    """An event set by SIGTERM or SIGINT (call from the main thread), each logged with `saying`."""
    stop = threading.Event()

    def on_signal(number: int, _frame: FrameType | None) -> None:
        logger.info("signal %s: %s", signal.Signals(number).name, saying)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop
