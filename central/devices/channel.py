"""The device channel: one WebSocket per edge agent (`GET /api/v1/device/channel`), messages in
`common.device_channel`.

The upgrade carries `X-Device-Key` and is checked as `DeviceDep` checks it; a key central does not
accept is closed with 1008 right after the accept (audited as the long-poll's 401 is) and the channel
is scoped to the key's hall. After `hello {cursor}` central sends pages of the hall's commands exactly
as the long-poll answers them (`fetch_commands`), whenever the notifier says the hall has a new one
(on any instance), and re-reads by itself every `Notifier.reread_seconds`. No database connection is
held between looks. Revoking the key closes the channel at once (the `device_key_revoked` topic, on
every instance); each ping from the agent also re-checks the key, as a backstop.

The reader never waits on the database: pings and replies go to a handler task, so every message is
taken at once. uvicorn stops reading a WebSocket while a message it queued waits for the app, and then
hears no keepalive pong either, so a reader held by a key check (waiting for a thread or a connection),
or killed by a failed one, got the channel closed with 1011 within uvicorn's ping timeout once the
agent sent anything more: the soak's nine channels after a PostgreSQL restart. A database that is away
ends nothing: a page is looked for again, a ping is answered (its backstop check waits for the next),
and a task that fails closes the channel rather than leaving it deaf.

A ping may carry the agent's outbox disk state (`OutboxReport`): kept (`central.devices.outboxes`)
when it differs from the last one this channel kept, or that one is KEEP_OUTBOX_S old. A report that
is not one is ignored with a log line; the ping still counts and is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from fastapi import FastAPI, WebSocket
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from central.core.actor import Actor
from central.core.db_errors import DATABASE_AWAY, first_line
from central.devices.commands import PAGE_LIMIT, look
from central.devices.keys import DevicePrincipal, authenticate_device
from central.devices.models import DeviceCommand
from central.devices.notifier import COMMANDS, KEY_REVOKED, Notifier, Subscription
from central.devices.outboxes import record_outbox
from central.devices.replies import Replies
from common.device_channel import (
    CHANNEL_PATH,
    CLOSE_BAD_MESSAGE,
    CLOSE_IDLE,
    CLOSE_REFUSED,
    CLOSE_TRY_AGAIN,
    MAX_REPLY_BYTES,
    TO_CENTRAL,
    Ack,
    Commands,
    Hello,
    OutboxReport,
    Ping,
    Pong,
    Reply,
)

logger = logging.getLogger(__name__)

_GONE = (WebSocketDisconnect, RuntimeError, OSError)  # the peer went away while we sent
KEEP_OUTBOX_S = 300.0  # an unchanged outbox report is kept again this often (its free space, its time)
DB_RETRY_S = 3.0  # a page not read because the database is away is looked for again this soon
HANDLER_QUEUE = 16  # pings and replies waiting for the handler; a flooding agent waits beyond this
CLOSE_INTERNAL = 1011


def add_channel_route(app: FastAPI) -> None:
    # A plain Starlette route: the app-wide form-token dependency is for browsers' HTTP requests.
    app.router.add_websocket_route(CHANNEL_PATH, device_channel)


async def device_channel(websocket: WebSocket) -> None:
    app: FastAPI = websocket.app
    await websocket.accept()
    try:
        device = await run_in_threadpool(_authenticate, app, websocket.headers.get("x-device-key", ""))
    except DATABASE_AWAY as exc:
        logger.warning("device channel: key not checked, the database is away (%s)", first_line(exc))
        await _close(websocket, CLOSE_TRY_AGAIN, "central cannot check the key now; try again later")
        return
    if device is None:
        await run_in_threadpool(_audit_refusal, app, websocket)
        await _close(websocket, CLOSE_REFUSED, "a valid, unrevoked device key is needed in X-Device-Key")
        return
    try:
        await ChannelSession(app, websocket, device).run()
    except _GONE as exc:
        logger.debug("device %s: channel gone (%s)", device.device_code, exc)


class ChannelSession:
    def __init__(self, app: FastAPI, websocket: WebSocket, device: DevicePrincipal) -> None:
        self.app, self.ws, self.device = app, websocket, device
        self.notifier: Notifier = app.state.notifier
        self.replies: Replies = app.state.replies
        self.idle = float(app.state.settings.device_channel_idle_seconds)
        self.loop = asyncio.get_running_loop()
        self.heard = self.loop.time()
        self.pinged = False
        self.wake = asyncio.Event()  # commands, a revocation or the reader's end: one event
        self.ended: tuple[int, str] | None = None  # set by the reader: how to close
        self._send_lock = asyncio.Lock()
        self.sent: deque[int] = deque(maxlen=1000)  # command ids sent here: their replies need no lookup
        self.outbox_kept: tuple[tuple[object, ...], float] | None = None  # the last report kept, and when
        self.inbox: asyncio.Queue[Ping | Reply] = asyncio.Queue(HANDLER_QUEUE)  # reader → handler

    async def run(self) -> None:
        cursor = await self._hello()
        if cursor is None:
            return
        hall, key = str(self.device.hall_id), self.device.key_id
        logger.info("device %s: channel open at cursor %d", self.device.device_code, cursor)
        with (
            self.notifier.subscribe(COMMANDS, hall, wake=self.wake) as commands,
            self.notifier.subscribe(KEY_REVOKED, key, wake=self.wake) as revoked,
        ):
            tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._handle())]
            for task in tasks:
                task.add_done_callback(self._task_done)
            try:
                await self._serve(cursor, commands, revoked)
            finally:
                for task in tasks:
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError, *_GONE):
                    await asyncio.gather(*tasks, return_exceptions=True)
        logger.info("device %s: channel closed", self.device.device_code)

    async def _hello(self) -> int | None:
        try:
            raw = await asyncio.wait_for(self._receive(), timeout=self.idle)
        except TimeoutError:
            await _close(self.ws, CLOSE_IDLE, "no hello")
            return None
        if raw is None:
            return None
        message = self._parse(raw)
        if not isinstance(message, Hello):
            await _close(self.ws, CLOSE_BAD_MESSAGE, "the first message is hello")
            return None
        self.heard = self.loop.time()
        return message.cursor

    def _task_done(self, task: asyncio.Task[None]) -> None:
        """A reader or handler that failed ends the channel (the agent reconnects), never leaves it deaf."""
        if task.cancelled() or (exc := task.exception()) is None:
            return
        if isinstance(exc, _GONE):  # the agent went while a pong was on its way: the reader sees it too
            ended = (1000, "gone")
        else:
            logger.error("device %s: channel task failed", self.device.device_code, exc_info=exc)
            ended = (CLOSE_INTERNAL, "central error; reconnect")
        if self.ended is None:
            self.ended = ended
        self.wake.set()

    async def _serve(self, cursor: int, commands: Subscription, revoked: Subscription) -> None:
        next_look = 0.0  # look at once: commands may be waiting past the agent's cursor
        while True:
            self.wake.clear()
            if revoked.stale:  # a revocation may have been published while LISTEN was down
                revoked.stale = False  # not checkable now (database away): the next ping checks it
                revoked.fired = revoked.fired or await self._key_valid() is False
            if revoked.fired:
                await _close(self.ws, CLOSE_REFUSED, "device key revoked")
                return
            if self.ended is not None:
                await _close(self.ws, *self.ended)
                return
            now = self.loop.time()
            if commands.fired or commands.stale or now >= next_look:
                commands.fired = commands.stale = False
                try:
                    cursor = await self._send_page(cursor)
                except DATABASE_AWAY as exc:
                    self._database_away(f"commands not read (again in {DB_RETRY_S:g} s)", exc)
                    next_look = self.loop.time() + DB_RETRY_S
                else:
                    if cursor < 0:  # a full page: more are waiting
                        cursor, next_look = -cursor, 0.0
                        continue
                    next_look = self.loop.time() + self.notifier.reread_seconds
            silent = self.loop.time() - self.heard
            if silent > self.idle:
                await _close(self.ws, CLOSE_IDLE, f"nothing heard for {self.idle:g} s")
                return
            if silent > self.idle / 2 and not self.pinged:
                self.pinged = True
                await self.send(Ping())
            until_heartbeat = (self.idle / 2 if not self.pinged else self.idle) - silent
            timeout = max(0.05, min(next_look - self.loop.time(), until_heartbeat))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=timeout)

    async def _send_page(self, cursor: int) -> int:
        """Send what is past `cursor`; answers the new cursor, negated when the page was full."""
        page = await run_in_threadpool(
            look,
            self.app.state.session_factory,
            hall_id=self.device.hall_id,
            after=cursor,
            now=self.app.state.clock(),
        )
        if not page.commands and page.cursor == cursor:
            return cursor
        commands = [command.model_dump(mode="json") for command in page.commands]
        self.sent.extend(command.id for command in page.commands)
        await self.send(Commands(commands=commands, cursor=page.cursor))
        return -page.cursor if len(page.commands) >= PAGE_LIMIT else page.cursor

    async def send(self, message: BaseModel) -> None:
        async with self._send_lock:
            await self.ws.send_text(message.model_dump_json())

    async def _receive(self) -> str | bytes | None:
        """The next frame, or None when the agent has gone."""
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            return None
        data: str | bytes | None = message.get("text") or message.get("bytes")
        return data if data is not None else ""

    def _parse(self, raw: str | bytes) -> Hello | Ack | Reply | Ping | Pong | None:
        """The message, or None for a frame that is not one (a ping whose outbox report alone is wrong
        is a plain ping)."""
        try:
            return TO_CENTRAL.validate_json(raw)
        except ValidationError as exc:
            errors = exc.errors()
            if all(err["loc"][:2] == ("ping", "outbox") for err in errors):
                logger.warning(
                    "device %s: outbox report in a ping not understood, ignored: %s",
                    self.device.device_code,
                    [f"{'.'.join(map(str, e['loc'][2:])) or 'outbox'}: {e['msg']}" for e in errors[:3]],
                )
                return Ping()
            logger.warning("device %s: bad channel message: %s", self.device.device_code, errors[:2])
            return None

    async def _read(self) -> None:
        """Every frame from the agent as it comes; sets `ended` and wakes the sender when done."""
        try:
            self.ended = await self._read_until_end()
        except _GONE:
            self.ended = (1000, "gone")
        self.wake.set()

    async def _read_until_end(self) -> tuple[int, str]:
        while True:
            raw = await self._receive()
            if raw is None:
                return 1000, "gone"
            self.heard, self.pinged = self.loop.time(), False
            message = self._parse(raw)
            if message is None or isinstance(message, Hello):
                return CLOSE_BAD_MESSAGE, "not a channel message (hello is sent once)"
            if isinstance(message, Ping | Reply):
                await self.inbox.put(message)  # the handler may wait on the database; reading must not
            elif isinstance(message, Ack):
                logger.debug("device %s kept cursor %d", self.device.device_code, message.cursor)

    async def _handle(self) -> None:
        """Pings and replies, one at a time, in the order they came."""
        while True:
            message = await self.inbox.get()
            if isinstance(message, Reply):
                await self._relay(message)
                continue
            # the backstop for a revocation whose notification did not arrive (e.g. a CLI on SQLite)
            if await self._key_valid() is False:
                self.ended = (CLOSE_REFUSED, "device key revoked")
                self.wake.set()
                return
            await self.send(Pong())
            if message.outbox is not None:
                await self._keep_outbox(message.outbox)

    async def _key_valid(self) -> bool | None:
        """Whether the presented key is still good; None while the database cannot say."""
        presented = self.ws.headers.get("x-device-key", "")
        try:
            # Past the cache: this is the backstop for what no notification said (a restore, a hand edit).
            return await run_in_threadpool(_authenticate, self.app, presented, False) is not None
        except DATABASE_AWAY as exc:
            self._database_away("key not re-checked (the next ping checks it)", exc)
            return None

    async def _keep_outbox(self, report: OutboxReport) -> None:
        """Keep the agent's outbox state when it changed (free space aside) or is due again; a database
        that cannot take it now costs the channel nothing (the next report tries again)."""
        now = self.loop.time()
        key = (report.state, report.since, report.refused)
        if (
            self.outbox_kept is not None
            and self.outbox_kept[0] == key
            and now - self.outbox_kept[1] < KEEP_OUTBOX_S
        ):
            return
        try:
            await run_in_threadpool(_record_outbox, self.app, self.device.device_id, report)
        except SQLAlchemyError as exc:
            logger.warning("device %s: outbox report not kept now: %s", self.device.device_code, exc)
            return
        self.outbox_kept = (key, now)

    async def _relay(self, reply: Reply) -> None:
        try:
            await self._relay_now(reply)
        except DATABASE_AWAY as exc:  # its hall's check, or the NOTIFY to another instance's waiter
            self._database_away(f"reply to {reply.command_id} dropped", exc)

    async def _relay_now(self, reply: Reply) -> None:
        size = len(reply.model_dump_json(include={"body"}).encode())
        if size > MAX_REPLY_BYTES + 10:
            logger.warning(
                "device %s: reply to %d too large (%d bytes), dropped",
                self.device.device_code,
                reply.command_id,
                size,
            )
            return
        if (
            reply.command_id not in self.sent
            and await run_in_threadpool(_command_hall, self.app, reply.command_id) != self.device.hall_id
        ):  # never another hall's command, nor a made-up one
            logger.warning(
                "device %s: reply to command %d, not its hall's; dropped",
                self.device.device_code,
                reply.command_id,
            )
            return
        await self.replies.deliver(reply.command_id, reply.body)

    def _database_away(self, what: str, exc: BaseException) -> None:
        """One line for what could not be done now, no traceback: a restart is not a bug."""
        logger.warning(
            "device %s: %s, the database is away (%s)", self.device.device_code, what, first_line(exc)
        )


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(*_GONE):
            await websocket.close(code=code, reason=reason[:120])


def _authenticate(app: FastAPI, presented: str, cached: bool = True) -> DevicePrincipal | None:
    cache = app.state.device_keys if cached else None
    with app.state.session_factory() as session:
        return authenticate_device(session, presented=presented[:200], now=app.state.clock(), cache=cache)


def _record_outbox(app: FastAPI, device_id: int, report: OutboxReport) -> None:
    with app.state.session_factory() as session:
        record_outbox(session, device_id=device_id, report=report, now=app.state.clock())
        session.commit()


def _command_hall(app: FastAPI, command_id: int) -> int | None:
    with app.state.session_factory() as session:
        hall: int | None = session.scalar(select(DeviceCommand.hall_id).where(DeviceCommand.id == command_id))
        return hall


def _audit_refusal(app: FastAPI, websocket: WebSocket) -> None:
    remote = websocket.client.host if websocket.client else "?"
    app.state.refusal_log.write(
        app.state.session_factory,
        actor=Actor(kind="anonymous", name=remote, remote_addr=remote),
        action="refused.unauthenticated",
        target=f"WEBSOCKET {CHANNEL_PATH}",
        detail="a valid, unrevoked device key is needed in X-Device-Key",
        now=app.state.clock(),
    )
