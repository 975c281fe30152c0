"""The halls' link to central: a TCP proxy on loopback between the halls' clients (edge agents, screens)
and nginx, which the soak cuts and restores. A cut closes every connection at once (the clients see
them reset) and refuses new ones (the listening socket is closed) until it is restored on the same
port. Bytes pass through untouched: TLS runs end to end between the client and nginx.

Protocols rather than streams: a few thousand connections relay in this process, on the orchestrator's
event loop, and a relayed chunk costs one write, with reading paused while the other side's buffer is
full (flow control both ways).
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from bench.common import free_port

logger = logging.getLogger(__name__)


class _Side(asyncio.Protocol):
    """One end of a relayed connection; `peer` is the other end's transport once both are open."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.transport: asyncio.Transport | None = None
        self.peer: _Side | None = None
        self.got_eof = False
        self._early: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses
        self.link.sides.add(self)

    def data_received(self, data: bytes) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)
        else:
            self._early.append(data)

    def joined(self, peer: _Side) -> None:
        self.peer = peer
        assert peer.transport is not None
        for chunk in self._early:
            peer.transport.write(chunk)
        self._early.clear()
        if self.got_eof and peer.transport.can_write_eof():  # it came before the other end was open
            peer.transport.write_eof()

    def pause_writing(self) -> None:  # our buffer is full: stop reading the other side
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def eof_received(self) -> bool:
        """Pass the half-close on; once both directions have ended, close both ends. (Kept half-open,
        a connection both ends had finished was never closed: the hour-long soak ran out of its 20,000
        file descriptors after 19 minutes.)"""
        self.got_eof = True
        peer = self.peer
        if peer is None or peer.transport is None:  # passed on once the other end is open (joined)
            return True
        if peer.got_eof:
            peer.transport.close()
            return False
        if peer.transport.can_write_eof():
            peer.transport.write_eof()
            return True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.link.sides.discard(self)
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class _Client(_Side):
    """The halls' end: opens its upstream to nginx when it is accepted."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.transport is not None
        self.transport.pause_reading()
        opening = asyncio.get_running_loop().create_task(self._open_upstream())
        self.link.opening.add(opening)  # held: the loop keeps only weak references to tasks
        opening.add_done_callback(self.link.opening.discard)

    async def _open_upstream(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, upstream = await loop.create_connection(
                lambda: _Side(self.link), "127.0.0.1", self.link.upstream_port
            )
        except OSError:
            self.abort()
            return
        if self.transport is None or self.transport.is_closing():
            upstream.abort()
            return
        upstream.joined(self)
        self.joined(upstream)
        self.transport.resume_reading()


class Link:
    """The proxy on `port`, relaying to nginx on `upstream_port`."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.sides: set[_Side] = set()
        self.opening: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.cuts = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Client(self), "127.0.0.1", self.port, reuse_address=True, backlog=4096
        )

    async def cut(self) -> int:
        """Refuse new connections and reset every open one; answers how many were open."""
        if self._server is not None:
            self._server.close()
            self._server = None
        open_now = len(self.sides) // 2
        for side in list(self.sides):
            side.abort()
        self.cuts += 1
        return open_now

    async def close(self) -> None:
        await self.cut()
