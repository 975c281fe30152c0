"""The command poller: long-polls central for commands and hands prompts to the keypad readers,
live view signalling to `edge.live.commands` and patrol captures to `edge.patrol_capture` (the fallback of the WebSocket channel, `edge.channel`;
both hand commands over through `CommandHandler`).

`GET /api/v1/device/commands?after=<cursor>&wait=<s>` answers as soon as a command is due (or after
`wait` seconds with none). The cursor central returns is kept in the outbox database, so a restarted
agent does not replay prompts it already handed over; expired prompts are skipped. Errors back off
exponentially (capped) and never stop the poller.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from common.contract import Command, LiveCloseCommand, LiveOfferCommand, PatrolCaptureCommand, PromptCommand
from edge.central import COMMANDS_PATH
from edge.clock import utc_now
from edge.outbox import Outbox, OutboxFull
from rating_device.protocol import Prompt

logger = logging.getLogger(__name__)

CURSOR_KEY = "commands_cursor"
FIRST_BACKOFF_S = 1.0

# Hands a prompt to the reader of a window; False when no keypad stands there.
Deliver = Callable[[str, Prompt, datetime], bool]
# Takes a live view command over (answered later, off this thread); False when it is not this agent's.
LiveHandler = Callable[[LiveOfferCommand | LiveCloseCommand], bool]
# Captures a patrol finding's snapshot and clip; False when the camera is not this agent's.
CaptureHandler = Callable[[PatrolCaptureCommand], bool]
KNOWN_KINDS = ("prompt", "live_offer", "live_close", "patrol_capture")


class OtherCommand(BaseModel):
    """A command kind this agent does not know (from a newer central): skipped, cursor moves on."""

    model_config = ConfigDict(extra="allow")

    id: int
    kind: str


class CommandsAnswer(BaseModel):
    """Central's page (`common.contract.CommandPage`) read tolerantly: a newer central may send kinds
    and fields this agent does not know."""

    model_config = ConfigDict(extra="ignore")

    # A command of a kind this agent knows, else (unknown kind, malformed) one it skips.
    commands: list[Annotated[Command | OtherCommand, Field(union_mode="left_to_right")]]
    cursor: int = Field(ge=0)


_ANSWER = TypeAdapter(CommandsAnswer)


class CommandError(RuntimeError):
    """Central's answer could not be used; polled again after a backoff."""


class CommandHandler:
    """Hands a page of commands over and keeps the cursor in the outbox: the one handling of both ways
    commands arrive (this long-poll, and the WebSocket channel in `edge.channel`). Commands at or
    below the kept cursor are skipped, so a page sent again after a lost connection is handed over
    once (at least once when the agent died between handing over and keeping the cursor)."""

    def __init__(
        self,
        outbox: Outbox,
        deliver: Deliver,
        *,
        clock: Callable[[], datetime] = utc_now,
        live: LiveHandler | None = None,
        capture: CaptureHandler | None = None,
    ) -> None:
        self.outbox = outbox
        self.deliver = deliver
        self.live = live
        self.capture = capture
        self._clock = clock
        self.delivered = 0
        self._unsaved_cursor = 0  # a cursor the outbox could not keep (a full disk)

    @property
    def cursor(self) -> int:
        value = self.outbox.get_meta(CURSOR_KEY)
        return max(int(value) if value and value.isdigit() else 0, self._unsaved_cursor)

    def handle_json(self, raw: bytes | str) -> int:
        """Hand over a page as central sends it; answers how many were handed over."""
        try:
            answer = _ANSWER.validate_json(raw)
        except ValidationError as exc:
            raise CommandError(f"central's commands answer is malformed: {exc.errors()[:3]}") from exc
        return self._handle_answer(answer)

    def handle_page(self, page: dict[str, object]) -> int:
        try:
            answer = _ANSWER.validate_python(page)
        except ValidationError as exc:
            raise CommandError(f"central's commands page is malformed: {exc.errors()[:3]}") from exc
        return self._handle_answer(answer)

    def _handle_answer(self, answer: CommandsAnswer) -> int:
        after = self.cursor
        handed = sum(self._handle(command) for command in answer.commands if command.id > after)
        if answer.cursor > after:  # never back: an old page sent again does not rewind
            try:
                self.outbox.set_meta(CURSOR_KEY, str(answer.cursor))
            except OutboxFull:  # kept in memory meanwhile: a restart may hand these commands over again
                self._unsaved_cursor = answer.cursor
        self.delivered += handed
        return handed

    def _handle(
        self,
        command: PromptCommand | LiveOfferCommand | LiveCloseCommand | PatrolCaptureCommand | OtherCommand,
    ) -> bool:
        if isinstance(command, OtherCommand):
            known = command.kind in KNOWN_KINDS
            what = f"malformed {command.kind}" if known else f"command of unknown kind {command.kind!r}"
            logger.warning("%s %d skipped", what, command.id)
            return False
        if command.expires_at <= self._clock():
            logger.info("%s %d expired before it arrived", command.kind, command.id)
            return False
        if isinstance(command, PatrolCaptureCommand):
            if self.capture is None:
                logger.info("patrol_capture %d skipped: this agent has no camera", command.id)
                return False
            return self.capture(command)
        if not isinstance(command, PromptCommand):
            if self.live is None:
                logger.info("%s %d skipped: this agent does no live view", command.kind, command.id)
                return False
            return self.live(command)
        try:
            prompt = Prompt(command.staff_name or "", command.staff_no or "", command.case_no, command.text)
        except ValueError as exc:
            logger.warning("prompt %d for case %s cannot be shown: %s", command.id, command.case_no, exc)
            return False
        if not self.deliver(command.window, prompt, command.expires_at):
            logger.info("prompt %d: no keypad at window %s here", command.id, command.window)
            return False
        return True


class CommandPoller:
    def __init__(
        self,
        client: httpx.Client,
        outbox: Outbox,
        deliver: Deliver,
        *,
        wait_seconds: int = 25,
        max_backoff_seconds: float = 30.0,
        clock: Callable[[], datetime] = utc_now,
        handler: CommandHandler | None = None,
    ) -> None:
        self.client = client
        self.handler = handler or CommandHandler(outbox, deliver, clock=clock)
        self.wait_seconds = wait_seconds
        self.max_backoff = max_backoff_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="edge-commands", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop polling; a long poll in flight is abandoned (the thread is a daemon)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def cursor(self) -> int:
        return self.handler.cursor

    @property
    def delivered(self) -> int:
        return self.handler.delivered

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Poll until stopped (or until `until()` says so: the channel's fallback runs it a while)."""
        logger.info("command poller started at cursor %d", self.cursor)
        failures = 0
        while not self._stop.is_set() and not (until is not None and until()):
            try:
                self.poll_once()
                failures = 0
            except (httpx.HTTPError, CommandError) as exc:
                failures += 1
                delay = min(self.max_backoff, FIRST_BACKOFF_S * 2.0 ** min(failures - 1, 30))
                log = logger.warning if failures == 1 or failures % 10 == 0 else logger.debug
                log("polling central for commands failed (attempt %d): %s", failures, exc)
                self._stop.wait(delay * (0.5 + 0.5 * random.random()))
            except Exception:
                logger.exception("command poller step failed")
                self._stop.wait(self.max_backoff)

    def poll_once(self) -> int:
        """One long poll: hand over what is due, keep the cursor; answers how many were handed over."""
        response = self.client.get(COMMANDS_PATH, params={"after": self.cursor, "wait": self.wait_seconds})
        if response.status_code != 200:
            raise CommandError(f"central answered {response.status_code}: {response.text[:300]}")
        return self.handler.handle_json(response.content)
