"""The edge agent's wall clock (UTC, aware); every part takes it as an injectable `clock`.

`CentralTime` keeps that clock to central's. Presses bind to cases by press time against prompts
opened on central's clock (RULES "Satisfaction ratings"; a prompt is valid 180 s), and presence,
absences and visits are judged against staffed hours: an edge box whose clock is off by a minute (no
NTP on a hall's intranet, a flat RTC battery) would leave every rating unbound and every timeline
shifted. So the agent asks central for its time now and then (`edge.central.ClockSync`, Cristian's
method: the answer is taken to be stamped halfway through the exchange) and stamps everything with
its own clock plus the measured offset. Only a real error is corrected (more than a second, beyond
what the exchange's round trip can tell), so the stamps do not jitter with network noise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)

TOLERANCE = timedelta(seconds=1)  # an offset this small is left alone: stamps stay steady
MAX_ROUND_TRIP = timedelta(seconds=5)  # a slower exchange says too little about the offset


def utc_now() -> datetime:
    return datetime.now(UTC)


class CentralTime:
    """A wall clock kept to central's: `now()` is the base clock plus the offset last measured."""

    def __init__(self, base: Callable[[], datetime] = utc_now) -> None:
        self.base = base
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    @property
    def offset(self) -> timedelta:
        """Central's time minus the base clock's, as last corrected."""
        with self._lock:
            return self._offset

    def now(self) -> datetime:
        return self.base() + self.offset

    def observe(self, *, sent: datetime, received: datetime, central: datetime) -> bool:
        """One exchange: the base clock when the request left and the answer came, and the time in
        central's answer. Corrects the offset when it is off by more than the exchange can explain;
        answers whether it did."""
        round_trip = received - sent
        if round_trip < timedelta(0) or round_trip > MAX_ROUND_TRIP:
            logger.debug("clock sample ignored: round trip %s", round_trip)
            return False
        estimate = central - (sent + round_trip / 2)
        with self._lock:
            if abs(estimate - self._offset) <= max(TOLERANCE, round_trip / 2):
                return False
            self._offset = estimate
        seconds = estimate.total_seconds()
        logger.warning(
            "this edge box's clock is %.1f s %s central's: observations are stamped with central's time "
            "(set up NTP on the box to fix it for good)",
            abs(seconds),
            "behind" if seconds > 0 else "ahead of",
        )
        return True


__all__ = ["CentralTime", "utc_now"]
