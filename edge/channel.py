"""The command channel: one WebSocket from the agent to central (`GET /api/v1/device/channel`, messages
in `common.device_channel`), the long-poll kept as its fallback.

A thread keeps the WebSocket open: `hello` with the cursor kept in the outbox, then every `commands`
page goes through the same `CommandHandler` as the long-poll's (hand over, keep the cursor, `ack`).
It pings central every `heartbeat_seconds` of silence and reconnects when nothing comes back within as
long again. Reconnects wait a jittered, doubling delay (full jitter: a hall's agents spread out after
a central restart instead of arriving together). When the upgrade itself is refused
`fallback_after_refusals` times in a row (an older central, a proxy that does not pass WebSockets), it
long-polls for `fallback_seconds`, then tries the WebSocket again. Central unreachable is no refusal:
the long-poll would not reach it either.

Each ping carries the outbox's disk state (`outbox`, a callable answering an `OutboxReport`), so
central sees a full disk the outbox itself cannot report. A central that closes the channel on such a
ping as not understood (1007: older than the field) gets plain pings from then on; the time sync's
header still carries the state.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from common.device_channel import (
    CHANNEL_PATH,
    CLOSE_BAD_MESSAGE,
    CLOSE_REFUSED,
    CLOSE_TRY_AGAIN,
    TO_AGENT,
    Ack,
    AgentPing,
    Commands,
    Hello,
    OutboxReport,
    Ping,
    Pong,
    Reply,
)
from edge.central import USER_AGENT
from edge.commands import CommandError, CommandHandler, CommandPoller
from edge.config import CentralConfig

logger = logging.getLogger(__name__)

FIRST_RECONNECT_S = 0.5
CLOSE_TIMEOUT_S = 2.0


def channel_url(central: CentralConfig) -> str:
    """ws:// or wss:// for central's http:// or https:// base URL (a path prefix is kept)."""
    base = str(central.url).rstrip("/")
    return "ws" + base.removeprefix("http") + CHANNEL_PATH


class CommandChannel:
    def __init__(
        self,
        central: CentralConfig,
        key: str,
        handler: CommandHandler,
        poller: CommandPoller,
        *,
        outbox: Callable[[], OutboxReport | None] | None = None,
        on_open: Callable[[], None] | None = None,
    ) -> None:
        self.central = central
        self.url = channel_url(central)
        self._key = key
        self.handler = handler
        self.poller = poller
        self.heartbeat = central.heartbeat_seconds
        self.outbox = outbox  # the disk state each ping carries; None: plain pings
        self.on_open = on_open  # called as each WebSocket opens: central is reachable (the uploader's nudge)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ws: ClientConnection | None = None
        self._send_lock = threading.Lock()
        self.connected = threading.Event()
        self.opens = 0  # WebSockets opened so far (logs and tests read it)
        self.fallbacks = 0  # times it fell back to the long-poll
        self.refused = 0  # times central closed it for the key (1008)
        self.pings = 0  # pings sent

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="edge-channel", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        self.poller.stop(0)
        ws = self._ws
        if ws is not None:
            ws.close()
        if self._thread is not None:
            self._thread.join(timeout)

    def reply(self, command_id: int, body: dict[str, Any]) -> bool:
        """Send a reply up the channel now (from any thread); False when the channel is not open."""
        ws = self._ws
        if ws is None:
            return False
        try:
            self._send(ws, Reply(command_id=command_id, body=body))
        except ConnectionClosed:
            return False
        return True

    def run(self) -> None:
        if self.central.channel == "long_poll":
            self.poller.run()
            return
        logger.info("command channel to %s, at cursor %d", self.url, self.handler.cursor)
        refusals = attempt = 0
        while not self._stop.is_set():
            try:
                ws = connect(
                    self.url,
                    additional_headers={"X-Device-Key": self._key},
                    user_agent_header=USER_AGENT,
                    proxy=None,  # central's URL as configured, never an environment proxy
                    open_timeout=self.central.connect_timeout_seconds,
                    close_timeout=CLOSE_TIMEOUT_S,
                    ping_interval=None,  # the channel's own ping/pong (central re-checks the key on each)
                    compression=None,
                )
            except InvalidHandshake as exc:  # an answer, but no WebSocket: refused upgrade
                refusals, attempt = refusals + 1, attempt + 1
                logger.info("central refused the WebSocket upgrade (%d in a row): %s", refusals, exc)
                if refusals >= self.central.fallback_after_refusals:
                    self._fall_back()
                    refusals = attempt = 0
                    continue
                self._pause(attempt)
                continue
            except (OSError, TimeoutError) as exc:
                attempt += 1
                log = logger.warning if attempt == 1 or attempt % 10 == 0 else logger.debug
                log("cannot reach central for the channel (attempt %d): %s", attempt, exc)
                self._pause(attempt)
                continue
            refusals = 0
            attempt = 0 if self._serve(ws) else attempt + 1
            self._pause(attempt)

    def _serve(self, ws: ClientConnection) -> bool:
        """One open WebSocket until it closes; answers whether it served (else the key was refused)."""
        self.opens += 1
        self._ws = ws
        try:
            with ws:
                if self._stop.is_set():  # stop() came while connecting
                    return True
                self.connected.set()
                if self.on_open is not None:
                    self.on_open()
                self._session(ws)
            return True
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            if code == CLOSE_REFUSED:
                self.refused += 1
                reason = exc.rcvd.reason if exc.rcvd is not None else ""
                logger.error("central closed the channel: %s (is the device key revoked?)", reason)
                return False
            if code == CLOSE_TRY_AGAIN:  # not served: the next try backs off as after no answer
                logger.warning("central cannot check the device key now (its database is away?); later")
                return False
            if code == CLOSE_BAD_MESSAGE and self.outbox is not None:
                self.outbox = None  # every other message of ours is as old as the channel
                logger.warning(
                    "central did not understand the outbox state in a ping (central older than this "
                    "agent?): plain pings from now on; the time sync still reports it"
                )
                return True
            logger.info("channel closed (%s); reconnecting", exc)
            return True
        except CommandError as exc:
            logger.warning("channel: %s; reconnecting", exc)
            return True
        except Exception:
            logger.exception("channel failed; reconnecting")  # e.g. a keypad hand-over that raised
            return False
        finally:
            self._ws = None
            self.connected.clear()

    def _session(self, ws: ClientConnection) -> None:
        self._send(ws, Hello(cursor=self.handler.cursor))
        awaiting_pong = False
        deadline = time.monotonic() + self.heartbeat
        while not self._stop.is_set():
            try:
                raw = ws.recv(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                if awaiting_pong:
                    logger.warning("no answer from central within %g s; reconnecting", self.heartbeat)
                    return
                self._send(ws, Ping(outbox=self.outbox() if self.outbox is not None else None))
                self.pings += 1
                awaiting_pong, deadline = True, time.monotonic() + self.heartbeat
                continue
            awaiting_pong, deadline = False, time.monotonic() + self.heartbeat  # anything proves it alive
            try:
                message = TO_AGENT.validate_json(raw)
            except ValidationError as exc:
                logger.warning("channel message not understood, skipped: %s", exc.errors()[:2])
                continue
            if isinstance(message, Commands):
                self.handler.handle_page({"commands": message.commands, "cursor": message.cursor})
                self._send(ws, Ack(cursor=self.handler.cursor))
            elif isinstance(message, AgentPing):
                self._send(ws, Pong())

    def _send(self, ws: ClientConnection, message: BaseModel) -> None:
        with self._send_lock:
            ws.send(message.model_dump_json())

    def _pause(self, attempt: int) -> None:
        cap = min(self.central.reconnect_max_seconds, FIRST_RECONNECT_S * 2.0 ** min(attempt, 20))
        self._stop.wait(random.uniform(0, cap))

    def _fall_back(self) -> None:
        self.fallbacks += 1
        seconds = self.central.fallback_seconds
        logger.warning("the WebSocket upgrade is refused: long-polling for commands for %g s", seconds)
        until = time.monotonic() + seconds
        self.poller.run(until=lambda: self._stop.is_set() or time.monotonic() >= until)
