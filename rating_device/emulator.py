"""A keypad emulator on a real pty: the test fixture and the demo's keypads.

It behaves like the firmware described in docs/keypad-protocol.md:
- HELLO when the line comes up: on start, after replug, and whenever the host (re)opens the port
  (after a short settle, so the open's input flush does not swallow it); and in answer to a HELLO.
- HEARTBEAT every `heartbeat_seconds` while the host has the port open.
- `press(key)` sends KEY with the next seq and the current uptime, and sends the same frame again
  every 300 ms until an ACK for that seq arrives, at most 5 times; then it gives up.
- PROMPT frames addressed to it (or to BROADCAST) are ACKed and shown (the last one is kept); a
  resent PROMPT (same seq, same content) is ACKed again but shown once.
- Unplug/replug is a power cycle: the pty goes away, pending KEYs are lost, uptime restarts, the seq
  starts at a new random value (so (seq, uptime) pairs of the old boot are not repeated).

Given a `SerialLine` instead of a link path, it opens that existing serial port (a USB-serial
adapter cabled to an edge box) and behaves the same; it cannot see the far end open its port, so it
greets with HELLO when its own port opens, and answers the edge's HELLO.

Sequence numbers, ACKs, resends and recognising a resent PROMPT are `rating_device.session`'s
ProtocolSession, which the edge's reader runs too. All line work happens on one background thread; press/unplug/replug from other threads are queued
to it. Counters are read with `counters()` under a lock.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rating_device.messages import KEY_MAX, KEY_MIN, U16_MAX, U32_MAX
from rating_device.protocol import (
    BROADCAST,
    Ack,
    Error,
    ErrorCode,
    Frame,
    FrameDecoder,
    Heartbeat,
    Hello,
    Key,
    Message,
    Prompt,
    encode,
)
from rating_device.session import ProtocolSession
from rating_device.transport import FaultInjector, Faults, PtyLink, SerialLine, SerialPortLink
from rating_device.worker import LoopThread

logger = logging.getLogger(__name__)

FIRMWARE = "hallwatch-emu 1.0"
HELLO_SETTLE_S = 0.2
IDLE_WAIT_S = 0.05
QUIET_S = 0.05  # silence after which held bytes are given up (FrameDecoder.flush)


@dataclass(frozen=True)
class Press:
    """One key press as sent: its (seq, uptime_ms) identify it on the line and at central."""

    seq: int
    key: int
    uptime_ms: int


@dataclass(frozen=True)
class EmulatorCounters:
    sent: int = 0  # key presses sent (first transmissions)
    retransmits: int = 0  # KEY frames sent again for lack of an ACK
    acked: int = 0  # presses ACKed by the host
    given_up: int = 0  # presses never ACKed after all retransmits
    lost: int = 0  # presses pending when the keypad was unplugged
    prompts: int = 0  # distinct PROMPTs shown
    hellos: int = 0
    heartbeats: int = 0
    frames_in: int = 0  # good frames received (any device id)
    ignored: int = 0  # frames received for another device id
    unheard: int = 0  # frames not written because no host had the port open
    bad_frames: int = 0  # bad frames received (decoder counts)
    replugs: int = 0


class KeypadEmulator:
    def __init__(
        self,
        device_id: int,
        link: str | Path | SerialLine,
        faults: Faults | FaultInjector | None = None,
        *,
        heartbeat_seconds: float | None = 5.0,
        firmware: str = FIRMWARE,
        seed: int | None = None,
        on_prompt: Callable[[Prompt], None] | None = None,
    ) -> None:
        if not 0 <= device_id < BROADCAST:
            raise ValueError(f"device_id must be between 0 and {BROADCAST - 1}, got {device_id}")
        if heartbeat_seconds is not None and heartbeat_seconds <= 0:
            raise ValueError(f"heartbeat_seconds must be positive, got {heartbeat_seconds}")
        Hello(firmware)  # validates
        injector = faults if isinstance(faults, FaultInjector) else FaultInjector(faults, seed=seed)
        self.device_id = device_id
        self.firmware = firmware
        self.heartbeat_seconds = heartbeat_seconds
        self.on_prompt = on_prompt
        self.link = (
            SerialPortLink(link, injector) if isinstance(link, SerialLine) else PtyLink(link, injector)
        )
        self._random = random.Random(seed)
        self._lock = threading.Condition()
        self._counts: dict[str, int] = dict.fromkeys(EmulatorCounters.__dataclass_fields__, 0)
        self._worker = LoopThread(f"keypad-{device_id}", self._step)
        self._last_prompt: Prompt | None = None
        self._boot()

    # --- public ---------------------------------------------------------------------------------

    @property
    def link_path(self) -> Path:
        return self.link.link_path

    @property
    def slave_path(self) -> str | None:
        return self.link.slave_path

    @property
    def last_prompt(self) -> Prompt | None:
        with self._lock:
            return self._last_prompt

    def counters(self) -> EmulatorCounters:
        with self._lock:
            return EmulatorCounters(**self._counts)

    @property
    def running(self) -> bool:
        return self._worker.running

    def start(self) -> KeypadEmulator:
        """Plug in (create the pty and the link, or open the given port) and start the keypad's thread.

        Raises OSError when a given port cannot be opened (missing, no permission, in use).
        """
        self.link.plug()
        self._worker.start()
        return self

    def stop(self) -> None:
        """Stop the thread and unplug (the pty closes, the link is removed)."""
        self._worker.stop()
        self.link.unplug()

    def close(self) -> None:
        self._worker.close()
        self.link.unplug()

    def __enter__(self) -> KeypadEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def press(self, key: int) -> Press:
        """Press a key (1..5); the KEY frame goes out at once and is retransmitted until ACKed."""
        if isinstance(key, bool) or not isinstance(key, int) or not KEY_MIN <= key <= KEY_MAX:
            raise ValueError(f"key must be {KEY_MIN}..{KEY_MAX}, got {key!r}")
        if not self.link.plugged:
            raise RuntimeError("the keypad is unplugged: a press does nothing")
        with self._lock:
            record = Press(self._session.next_seq(), key, self._uptime_ms())
            self._count("sent")
        self._worker.post(lambda: self._send_key(record))
        return record

    def press_many(self, keys: Iterable[int], interval: float = 0.0) -> list[Press]:
        presses = []
        for index, key in enumerate(keys):
            if index and interval > 0:
                time.sleep(interval)
            presses.append(self.press(key))
        return presses

    def unplug(self) -> None:
        """Pull the cable: the pty closes, the link path disappears, pending presses are lost."""
        self._worker.call(self._unplug)

    def replug(self) -> str:
        """Plug back in: a new pty at the same link path (or the given port reopened), a fresh boot.

        HELLO follows once the host opens the port. Raises OSError when a given port cannot be
        reopened; the keypad then stays unplugged.
        """
        self._worker.call(self._replug)
        return self.link.slave_path or ""

    def host_connected(self) -> bool:
        return self.link.host_connected()

    def wait_host(self, timeout: float) -> bool:
        """Wait until some process has the port open and the keypad has greeted it with HELLO."""
        with self._lock:
            return self._lock.wait_for(lambda: self._host and self._hello_due is None, timeout)

    def wait_settled(self, timeout: float) -> bool:
        """Wait until every press sent so far was ACKed, given up or lost."""
        with self._lock:
            return self._lock.wait_for(self._settled, timeout)

    def wait_for(self, predicate: Callable[[EmulatorCounters], bool], timeout: float) -> bool:
        """Wait until the counters satisfy `predicate`."""
        with self._lock:
            return self._lock.wait_for(lambda: predicate(EmulatorCounters(**self._counts)), timeout)

    # --- state (callers hold the lock unless noted) ---------------------------------------------

    def _boot(self) -> None:
        self._booted_at = time.monotonic()
        # A random first seq, so that a reboot does not reuse the (seq, uptime) pairs of the last one.
        self._session = ProtocolSession(
            device_id=self.device_id, first_seq=self._random.randrange(U16_MAX + 1)
        )
        self._host = False
        self._hello_due: float | None = None
        self._next_heartbeat = self._heartbeat_after(self._booted_at)
        self._decoder = FrameDecoder()
        self._last_rx = self._booted_at
        self._last_prompt = None

    def _settled(self) -> bool:
        counts = self._counts
        return counts["sent"] == counts["acked"] + counts["given_up"] + counts["lost"]

    def _heartbeat_after(self, moment: float) -> float | None:
        return None if self.heartbeat_seconds is None else moment + self.heartbeat_seconds

    def _uptime_ms(self) -> int:
        return int((time.monotonic() - self._booted_at) * 1000) & U32_MAX

    def _count(self, name: str, amount: int = 1) -> None:
        self._counts[name] += amount
        self._lock.notify_all()

    # --- the line thread ----------------------------------------------------------------------------

    def _step(self) -> None:
        now = time.monotonic()
        self._watch_host(now)
        self._timers(now)
        self._receive()
        self._sleep(time.monotonic())

    def _watch_host(self, now: float) -> None:
        connected = self.link.host_connected()
        with self._lock:
            if connected and not self._host:
                self._hello_due = now + HELLO_SETTLE_S
                logger.info("keypad %s: line up on %s (a host can hear it)", self.device_id, self.link_path)
            if connected != self._host:
                self._host = connected
                self._lock.notify_all()

    def _timers(self, now: float) -> None:
        with self._lock:
            hello = self._hello_due is not None and now >= self._hello_due
            if hello:
                self._hello_due = None
            beat = self._next_heartbeat is not None and now >= self._next_heartbeat
            if beat:
                self._next_heartbeat = self._heartbeat_after(now)
        if hello:
            self._send_hello()
            with self._lock:
                self._lock.notify_all()  # wait_host: greeted
        if beat:
            self._count_locked("heartbeats")
            self._send(Heartbeat(self._uptime_ms()))
        self._retransmit(now)

    def _retransmit(self, now: float) -> None:
        due = self._session.due(now)
        for frame in due.given_up:
            logger.warning("keypad %s: KEY seq %s never ACKed, given up", self.device_id, frame.seq)
            self._count_locked("given_up")
        for frame in due.resend:
            self._count_locked("retransmits")
            self._write(frame)

    def _sleep(self, now: float) -> None:
        deadlines = [
            d for d in (self._session.next_due(), self._hello_due, self._next_heartbeat) if d is not None
        ]
        timeout = min([IDLE_WAIT_S, *(d - now for d in deadlines)])
        self._worker.wait([self.link.fileno()] if self._host and self.link.plugged else [], timeout)

    def _receive(self) -> None:
        if not self._host:
            return
        data, now, decoder = self.link.read(), time.monotonic(), self._decoder
        if data:
            self._last_rx = now
        elif decoder.pending and now - self._last_rx >= QUIET_S:
            data = b""  # the line went quiet: a held partial frame will not be completed
        else:
            return
        bad_before = decoder.stats.bad_payload
        frames = decoder.feed(data) if data else decoder.flush()
        with self._lock:
            self._counts["bad_frames"] = decoder.stats.bad_frames
        if decoder.stats.bad_payload > bad_before:
            self._send(Error(ErrorCode.BAD_PAYLOAD, "payload did not parse"))
        for frame in frames:
            self._handle(frame)

    def _handle(self, frame: Frame) -> None:
        self._count_locked("frames_in")
        if frame.device_id not in (self.device_id, BROADCAST):
            self._count_locked("ignored")
            return
        message = frame.message
        if isinstance(message, Ack):
            if self._session.acknowledged(message.seq) is not None:
                self._count_locked("acked")
        elif isinstance(message, Prompt):
            repeat = self._session.is_repeat(frame)  # a resent PROMPT: ACKed again, shown once
            self._send(Ack(frame.seq))
            if not repeat:
                self._show(message)
        elif isinstance(message, Hello):
            logger.info("keypad %s: host says hello (%s)", self.device_id, message.firmware)
            self._send_hello()
        elif isinstance(message, Error):
            logger.warning("keypad %s: host error %s: %s", self.device_id, message.code, message.text)
        else:
            self._send(Error(ErrorCode.UNSUPPORTED, f"keypad does not accept {message.TYPE.name}"))

    def _show(self, prompt: Prompt) -> None:
        with self._lock:
            self._last_prompt = prompt
            self._count("prompts")
        logger.info(
            "keypad %s shows: %s — %s (%s), case %s",
            self.device_id,
            prompt.text,
            prompt.staff_name,
            prompt.staff_no,
            prompt.case_no,
        )
        if self.on_prompt is not None:
            self.on_prompt(prompt)

    def _count_locked(self, name: str) -> None:
        with self._lock:
            self._count(name)

    def _send_hello(self) -> None:
        self._count_locked("hellos")
        self._send(Hello(self.firmware))

    def _send_key(self, record: Press) -> None:
        if not self.link.plugged:
            self._count_locked("lost")
            return
        frame = self._session.frame(Key(record.key, record.uptime_ms), seq=record.seq)
        self._session.track(frame, now=time.monotonic())
        self._write(frame)

    def _send(self, message: Message) -> None:
        with self._lock:
            frame = self._session.frame(message)
        self._write(frame)

    def _write(self, frame: Frame) -> None:
        if not self.link.host_connected():
            self._count_locked("unheard")
            return
        self.link.send(encode(frame))

    def _unplug(self) -> None:
        lost = self._session.clear()
        self.link.unplug()
        with self._lock:
            self._host = False
            self._hello_due = None
            self._next_heartbeat = None
            self._count("lost", lost)

    def _replug(self) -> None:
        if self.link.plugged:
            self._unplug()
        with self._lock:
            self._boot()
            self._count("replugs")
        self.link.plug()
