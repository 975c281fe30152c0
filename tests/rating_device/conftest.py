"""A host for the emulator in tests: the real pty, opened by path with pyserial, decoded by FrameDecoder."""

from __future__ import annotations

import errno
import os
import select
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

from rating_device.emulator import KeypadEmulator
from rating_device.protocol import Ack, Frame, FrameDecoder, Key, Message, encode

WAIT = 15.0  # generous: things happen in milliseconds, but the machine may be busy


class Host:
    """What the edge does with a keypad port, minimally: open, read (on a thread), decode, ACK."""

    def __init__(self, path: Path | str, *, auto_ack: bool = False) -> None:
        self.port = serial.Serial(str(path), 9600, timeout=0.05)
        self.decoder = FrameDecoder()
        self.auto_ack = auto_ack
        self.error: Exception | None = None
        self._frames: list[Frame] = []
        self._lock = threading.Lock()
        self._seq = 0
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    @property
    def frames(self) -> list[Frame]:
        with self._lock:
            return list(self._frames)

    def send(self, device_id: int, message: Message) -> int:
        with self._lock:
            self._seq = (self._seq + 1) & 0xFFFF
            seq = self._seq
        self.port.write(encode(Frame(device_id, seq, message)))
        return seq

    def _read(self) -> None:
        while not self._closed.is_set():
            try:
                data = self.port.read(4096)
            except Exception as exc:  # unplugged: the edge would reconnect; the test looks at it
                self.error = exc
                return
            new = self.decoder.feed(data) if data else self.decoder.flush()
            with self._lock:  # recorded before ACKing: an ACKed press is always in `frames`
                self._frames.extend(new)
            for frame in new:
                if self.auto_ack and isinstance(frame.message, Key):
                    self.send(frame.device_id, Ack(frame.seq))

    def wait_for(self, predicate: Callable[[list[Frame]], bool], timeout: float = WAIT) -> list[Frame]:
        """Wait until `predicate(all frames so far)` holds; fails the test after `timeout`."""
        deadline = time.monotonic() + timeout
        while not predicate(self.frames):
            assert time.monotonic() < deadline, f"timed out; frames so far: {self.frames}"
            assert self.error is None or predicate(self.frames), f"port failed: {self.error!r}"
            time.sleep(0.01)
        return self.frames

    def wait_error(self, timeout: float = WAIT) -> Exception:
        self._thread.join(timeout)
        assert self.error is not None, "the port kept working"
        return self.error

    def of(self, kind: type) -> list[Frame]:
        return [frame for frame in self.frames if isinstance(frame.message, kind)]

    def close(self) -> None:
        self._closed.set()
        self._thread.join(WAIT)
        self.port.close()


def has(kind: type, count: int = 1) -> Callable[[list[Frame]], bool]:
    return lambda frames: sum(isinstance(f.message, kind) for f in frames) >= count


class NullModemCable:
    """Two serial ports joined by a cable: two ptys whose masters a thread relays to each other.

    `keypad_end` and `host_end` are /dev/pts paths, opened with pyserial like any serial port. The
    relay holds each slave open too, so closing one end leaves the other silent, not hung up, as on
    a real cable; bytes with nobody to read them are dropped when the far buffer is full.
    """

    def __init__(self) -> None:
        self._fds: list[int] = []
        ends, self._masters = [], []
        for _ in range(2):
            master, slave = os.openpty()
            tty.setraw(master)
            tty.setraw(slave)
            os.set_blocking(master, False)
            ends.append(os.ttyname(slave))
            self._masters.append(master)
            self._fds += [master, slave]
        self.keypad_end, self.host_end = ends
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._relay, daemon=True)
        self._thread.start()

    def _relay(self) -> None:
        a, b = self._masters
        while True:
            ready, _, _ = select.select([a, b, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            for source, sink in ((a, b), (b, a)):
                if source in ready:
                    self._pass(source, sink)

    @staticmethod
    def _pass(source: int, sink: int) -> None:
        try:
            data = os.read(source, 4096)
            os.write(sink, data)
        except BlockingIOError:
            pass  # nothing to read, or the far end's buffer is full: the bytes are lost, as on a line
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise

    def close(self) -> None:
        os.write(self._stop_w, b"!")
        self._thread.join(WAIT)
        for fd in (*self._fds, self._stop_r, self._stop_w):
            os.close(fd)


@pytest.fixture
def cable() -> Iterator[NullModemCable]:
    joined = NullModemCable()
    yield joined
    joined.close()


@pytest.fixture
def link(tmp_path: Path) -> Path:
    return tmp_path / "keypads" / "keypad-W01"


@pytest.fixture
def keypads() -> Iterator[Callable[..., KeypadEmulator]]:
    """Start emulators; every one is stopped and its pty closed after the test."""
    started: list[KeypadEmulator] = []

    def make(*args: object, **kwargs: object) -> KeypadEmulator:
        kwargs.setdefault("heartbeat_seconds", None)
        emulator = KeypadEmulator(*args, **kwargs)  # type: ignore[arg-type]
        started.append(emulator)
        return emulator.start()

    yield make
    for emulator in started:
        emulator.close()


@pytest.fixture
def hosts() -> Iterator[Callable[..., Host]]:
    opened: list[Host] = []

    def make(path: Path | str, **kwargs: bool) -> Host:
        host = Host(path, **kwargs)
        opened.append(host)
        return host

    yield make
    for host in opened:
        host.close()
