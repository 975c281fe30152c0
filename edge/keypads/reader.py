"""The keypad reader: one thread per configured keypad, from serial bytes to outbox rows.

Per press (docs/keypad-protocol.md, "Reliability"): the keypad sends KEY(seq, key, uptime_ms) and
repeats it every 300 ms until it gets ACK(seq). The reader stores the keypad_press observation in
the outbox first — `Outbox.put` returns once the row is on disk — and only THEN writes the ACK, so
a press the keypad saw acknowledged is never lost, whatever happens to this process afterwards.
The observation id f"{keypad}:{seq}:{uptime_ms}" is the same for every retransmission, so a repeated
frame (or one resent after an edge restart) is stored once here and once at central.

Where a camera watches the keypad's window, the agent gives the reader a `citizen_present` hook and
each press is stamped with its answer (True, False, or None: the camera could not tell), so central
can weight down a rating nobody at the counter could have given (RULES: a staff member must not rate
themselves). Without a hook the observation has no such key, as older centrals expect.

The port is opened with pyserial (exclusive). Any serial error — a pulled cable, the path gone —
closes it, the keypad is reported offline, and the reader tries again with a capped exponential
backoff until the path is back. PROMPT frames (from central's commands) are queued and sent on
this thread, and resent every 300 ms until the keypad ACKs them (at most 5 times). Sequence numbers,
ACKs and resends are `rating_device.session.ProtocolSession`, the same session the emulator runs.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import serial

from common.contract import KeypadPressIn, to_wire
from edge.clock import utc_now
from edge.config import KeypadConfig
from edge.keypads.health import HealthSchedule, KeypadStatus, health_observation
from edge.outbox import Outbox, OutboxFull
from rating_device.protocol import (
    BROADCAST,
    Ack,
    DecoderStats,
    Error,
    Frame,
    FrameDecoder,
    Heartbeat,
    Hello,
    Key,
    Prompt,
    encode,
)
from rating_device.session import ProtocolSession

logger = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.05  # longest wait for the first byte; the rest of a burst is read at once
WRITE_TIMEOUT_S = 2.0
FIRST_RETRY_S = 0.1
STABLE_SESSION_S = 5.0
EDGE_HELLO = "hallwatch-edge 0.1"  # our version, sent as HELLO to ask for the keypad's
MAX_QUEUED_PROMPTS = 16
PORT_ERRORS = (serial.SerialException, OSError, termios.error)


def press_observation(*, keypad: str, window: str, seq: int, key: Key, at: datetime) -> KeypadPressIn:
    """The keypad_press observation of a KEY frame (id = f"{keypad}:{seq}:{uptime_ms}", so a KEY
    retransmitted after a lost ACK is the same observation). Without the camera's verdict: the
    reader sets `citizen_present` only when the window has a camera."""
    return KeypadPressIn(
        id=f"{keypad}:{seq}:{key.uptime_ms}",
        kind="keypad_press",
        at=at,
        window=window,
        keypad=keypad,
        seq=seq,
        key=key.key,
        uptime_ms=key.uptime_ms,
    )


@dataclass
class _OutgoingPrompt:
    prompt: Prompt
    expires_at: datetime | None
    seq: int | None = None  # of its frame on the current line (None: not sent on it yet)


class KeypadReader:
    def __init__(
        self,
        config: KeypadConfig,
        outbox: Outbox,
        *,
        clock: Callable[[], datetime] = utc_now,
        citizen_present: Callable[[datetime], bool | None] | None = None,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.citizen_present = citizen_present  # the window camera's verdict at a press time
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._prompts: queue.Queue[_OutgoingPrompt] = queue.Queue(MAX_QUEUED_PROMPTS)
        self._lock = threading.Lock()  # guards the counters read by status()
        self._port: serial.Serial | None = None
        self._decoder = FrameDecoder()
        self._earlier = DecoderStats()  # counts of decoders of earlier connections
        self._ever_opened = False
        self._reconnects = 0
        self._presses = 0
        self._refused = 0  # presses the outbox refused (a full disk), not ACKed
        self._last_refused: str | None = None
        self._firmware: str | None = None
        # Sequence numbers, ACKs and resends (rating_device.session, shared with the emulator); frames
        # are addressed to BROADCAST until the keypad on the line speaks, then to its id.
        self._protocol = ProtocolSession(device_id=BROADCAST)
        self._last_heard: float | None = None  # monotonic
        self._last_heartbeat_at: datetime | None = None
        self._in_flight: _OutgoingPrompt | None = None
        self._health = HealthSchedule(config, time.monotonic())

    # --- public ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.config.name

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=f"keypad-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def prompt(self, prompt: Prompt, *, expires_at: datetime | None = None) -> bool:
        """Queue a PROMPT for the keypad (sent when the port is open); False if the queue is full."""
        try:
            self._prompts.put_nowait(_OutgoingPrompt(prompt, expires_at))
        except queue.Full:
            logger.warning(
                "keypad %s: prompt queue full, prompt for case %s dropped", self.name, prompt.case_no
            )
            return False
        return True

    def status(self) -> KeypadStatus:
        with self._lock:
            stats = self._decoder.stats
            heard = self._last_heard
            connected = self._port is not None
            online = (
                connected
                and heard is not None
                and time.monotonic() - heard < self.config.offline_after_seconds
            )
            return KeypadStatus(
                keypad=self.name,
                window=self.config.window,
                connected=connected,
                online=online,
                firmware=self._firmware,
                last_heartbeat_at=self._last_heartbeat_at,
                bad_frames=self._earlier.bad_frames + stats.bad_frames,
                garbage_bytes=self._earlier.garbage_bytes + stats.garbage_bytes,
                frames=self._earlier.frames + stats.frames,
                presses=self._presses,
                reconnects=self._reconnects,
                refused=self._refused,
            )

    # --- the thread --------------------------------------------------------------------------

    def run(self) -> None:
        logger.info("keypad %s: reading %s for window %s", self.name, self.config.port, self.config.window)
        wait, failures = FIRST_RETRY_S, 0
        while not self._stop.is_set():
            try:
                port = self._open(failures)
                if port is None:
                    failures += 1
                    self._report_health()
                else:
                    opened = time.monotonic()
                    self._session(port)
                    if time.monotonic() - opened >= STABLE_SESSION_S:  # else a port that fails at once
                        failures, wait = 0, FIRST_RETRY_S  # backs off like one that does not open
            except Exception:  # e.g. the outbox cannot write: nothing was ACKed, the keypad resends
                logger.exception("keypad %s: reader step failed", self.name)
            self._stop.wait(wait)
            wait = min(wait * 2, self.config.reconnect_max_seconds)
        logger.info("keypad %s: reader stopped", self.name)

    def _session(self, port: serial.Serial) -> None:
        """Serve an open port until it fails or the reader stops; then close it and report."""
        try:
            self._write(port, Hello(EDGE_HELLO))  # asks the keypad to say HELLO (firmware, liveness)
            self._serve(port)
        except PORT_ERRORS as exc:
            logger.warning("keypad %s: lost %s: %s", self.name, self.config.port, exc)
        finally:
            with self._lock:
                self._port = None
            with contextlib.suppress(*PORT_ERRORS):
                port.close()
        self._report_health()

    def _open(self, failures: int) -> serial.Serial | None:
        try:
            port = serial.Serial(
                self.config.port,
                self.config.baudrate,
                timeout=READ_TIMEOUT_S,
                write_timeout=WRITE_TIMEOUT_S,
                exclusive=True,
            )
        except PORT_ERRORS as exc:
            log = logger.warning if failures == 0 else logger.debug
            log("keypad %s: cannot open %s: %s", self.name, self.config.port, exc)
            return None
        with self._lock:
            if self._ever_opened:
                self._reconnects += 1
            self._ever_opened = True
            self._earlier = _sum(self._earlier, self._decoder.stats)
            self._decoder = FrameDecoder()  # a fresh buffer: no half frame from the old connection
            self._last_heard = None
            # The keypad may have been swapped while the line was down (another id): BROADCAST until
            # the one on the line speaks (docs/keypad-protocol.md, "Frame"); a PROMPT in flight goes
            # again as a new frame on the new line.
            self._protocol.device_id = BROADCAST
            self._protocol.clear()
            self._port = port
        logger.info("keypad %s: opened %s", self.name, self.config.port)
        return port

    def _serve(self, port: serial.Serial) -> None:
        while not self._stop.is_set():
            self._send_prompts(port)
            data = port.read(1)  # waits up to READ_TIMEOUT_S for the first byte
            with self._lock:
                if data:
                    frames = self._decoder.feed(data + port.read(port.in_waiting))
                else:  # the line went quiet: a candidate still held will never complete
                    frames = self._decoder.flush() if self._decoder.pending else []
            for frame in frames:
                self._handle(port, frame)
            self._report_health()

    # --- frames from the keypad --------------------------------------------------------------

    def _handle(self, port: serial.Serial, frame: Frame) -> None:
        message = frame.message
        with self._lock:
            self._last_heard = time.monotonic()
            self._protocol.device_id = frame.device_id
        if isinstance(message, Key):
            if self._store_press(frame, message):
                port.write(encode(self._protocol.ack(frame)))  # only after the row is durable
        elif isinstance(message, Hello | Heartbeat):
            self._alive(message)
        elif isinstance(message, Ack):
            self._prompt_acked(message.seq)
        elif isinstance(message, Error):
            logger.warning("keypad %s reports error %d: %s", self.name, message.code, message.text)
        else:
            logger.info("keypad %s sent an unexpected %s frame", self.name, type(message).__name__)

    def _store_press(self, frame: Frame, key: Key) -> bool:
        """Store the press; False when the outbox refused it (a full disk, logged and counted there):
        it is not ACKed, so the keypad knows it was not taken, and a retransmit may find room."""
        at = self._clock()
        press = press_observation(keypad=self.name, window=self.config.window, seq=frame.seq, key=key, at=at)
        if self.citizen_present is not None:  # set only with a camera: to_wire leaves it out otherwise
            press.citizen_present = self._citizen_present(at)
        observation = to_wire(press)
        try:
            stored = self.outbox.put(observation)
        except OutboxFull:
            with self._lock:
                if self._last_refused != press.id:  # the keypad retransmits a press up to 5 times
                    self._last_refused, self._refused = press.id, self._refused + 1
            return False
        if stored:
            with self._lock:
                self._presses += 1
            logger.info("keypad %s: key %d (seq %d) stored", self.name, key.key, frame.seq)
        else:
            logger.debug("keypad %s: KEY seq %d again (already stored)", self.name, frame.seq)
        return True

    def _citizen_present(self, at: datetime) -> bool | None:
        """The hook's answer; a failing hook costs the verdict, never the press (None: unknown)."""
        assert self.citizen_present is not None
        try:
            verdict = self.citizen_present(at)
        except Exception as exc:  # the press is what matters; the camera's opinion is extra
            logger.warning("keypad %s: no camera verdict for a press: %r", self.name, exc)
            return None
        return None if verdict is None else bool(verdict)  # a numpy bool would not serialise

    def _alive(self, message: Hello | Heartbeat) -> None:
        with self._lock:
            self._last_heartbeat_at = self._clock()
            if isinstance(message, Hello):
                if message.firmware != self._firmware:
                    logger.info("keypad %s: firmware %s", self.name, message.firmware)
                self._firmware = message.firmware

    # --- frames to the keypad ----------------------------------------------------------------

    def _write(self, port: serial.Serial, message: Hello) -> None:
        port.write(encode(self._protocol.frame(message)))

    def _send_prompts(self, port: serial.Serial) -> None:
        """The PROMPT in flight: sent again while its ACK is late, dropped once given up or expired;
        then the next one queued."""
        now = time.monotonic()
        current = self._in_flight
        if current is not None and _expired(current, self._clock()):
            logger.warning(
                "keypad %s: PROMPT for case %s expired before its ACK", self.name, current.prompt.case_no
            )
            current = None
        elif current is not None and current.seq is not None:
            due = self._protocol.due(now)
            for frame in due.resend:
                port.write(encode(frame))
            if due.given_up:
                logger.warning("keypad %s: PROMPT for case %s not ACKed", self.name, current.prompt.case_no)
                current = None
        if current is not None and (current.seq is None or not self._protocol.is_waiting(current.seq)):
            self._send_prompt(port, current, now)  # not sent on this line yet (a reconnect)
        self._in_flight = current
        if current is None:
            self._next_prompt(port, now)

    def _next_prompt(self, port: serial.Serial, now: float) -> None:
        while True:
            try:
                outgoing = self._prompts.get_nowait()
            except queue.Empty:
                return
            if _expired(outgoing, self._clock()):
                logger.info(
                    "keypad %s: prompt for case %s expired unsent", self.name, outgoing.prompt.case_no
                )
                continue
            self._in_flight = outgoing
            self._send_prompt(port, outgoing, now)
            return

    def _send_prompt(self, port: serial.Serial, outgoing: _OutgoingPrompt, now: float) -> None:
        frame = self._protocol.frame(outgoing.prompt)
        self._protocol.track(frame, now=now)
        outgoing.seq = frame.seq
        port.write(encode(frame))
        logger.info("keypad %s: prompt for case %s sent", self.name, outgoing.prompt.case_no)

    def _prompt_acked(self, seq: int) -> None:
        settled = self._protocol.acknowledged(seq) is not None
        if settled and self._in_flight is not None and self._in_flight.seq == seq:
            self._in_flight = None

    # --- health ------------------------------------------------------------------------------

    def _report_health(self) -> None:
        status = self.status()
        now = time.monotonic()
        if not self._health.due(status, now):
            return
        at = self._clock()
        obs_id = self._health.next_id(int(at.timestamp() * 1000))
        try:
            self.outbox.put(health_observation(status, obs_id=obs_id, at=at))
        except OutboxFull:  # logged and counted by the outbox; tried again a while later
            self._health.refused(now)
            return
        self._health.reported(status, now)


def _sum(a: DecoderStats, b: DecoderStats) -> DecoderStats:
    return DecoderStats(**{name: value + getattr(b, name) for name, value in a.as_dict().items()})


def _expired(outgoing: _OutgoingPrompt, now: datetime) -> bool:
    return outgoing.expires_at is not None and outgoing.expires_at <= now
