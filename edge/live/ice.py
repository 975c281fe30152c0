"""ICE at the edge: no ICE servers unless central names them, and host candidates we choose.

aiortc's default configuration asks a public STUN server (stun.l.google.com), which a hall box must
never contact on its own: ICE servers (STUN/TURN for halls behind NAT) come from central's settings,
and tests and the demo set none. aioice offers every interface's address except loopback
(`aioice.ice.get_host_addresses` skips 127.0.0.1 and ::1), so a browser on the box itself (the demo,
the tests) could not reach it; aioice has no option for that, so `offer_host_addresses` replaces that
one module-level function (the whole process shares aioice; the edge agent is its only user).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"

_aioice_addresses: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses
_lock = threading.Lock()


def offer_host_addresses(addresses: Sequence[str] | None) -> None:
    """From now on aioice offers exactly `addresses`, or (None) its own list plus loopback."""
    chosen = None if addresses is None else [str(a) for a in addresses]

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        if chosen is not None:
            return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]
        found = _aioice_addresses(use_ipv4, use_ipv6)
        return [*found, LOOPBACK] if use_ipv4 and LOOPBACK not in found else found

    with _lock:
        aioice.ice.get_host_addresses = host_addresses
    logger.info("ICE host candidates: %s", ", ".join(chosen) if chosen is not None else "all, and loopback")


def rtc_configuration(ice_servers: Sequence[RTCIceServer] = ()) -> RTCConfiguration:
    """A peer connection's configuration: the given ICE servers only (never aiortc's default)."""
    return RTCConfiguration(iceServers=list(ice_servers))
