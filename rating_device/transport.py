"""The keypad's end of a serial line: a pty pair behind a stable link path, and line faults.

`PtyLink` owns the master side of a pty; the slave side is the "serial port" the edge opens with
pyserial, always through the same symlink (e.g. /tmp/hallwatch-keypads/keypad-W01), because a new
pty gets a new /dev/pts number: unplug closes the pty and removes the link, replug creates a new pty
and re-points the link. Whether the host has the port open is seen on the master: with no slave open,
poll() reports POLLHUP (the pty's stand-in for DTR).

`FaultInjector` sits between the keypad and the line and bends each outgoing frame: garble (flip one
random bit in a byte with probability p), split (write in small chunks with short pauses), duplicate,
drop (each with probability p) and delay. It uses its own seeded random generator.

`SerialPortLink` is the other kind of line: a serial port that already exists (`SerialLine`: a
USB-serial adapter cabled to an edge box, or a pty pair made by socat), opened with pyserial.
"""

from __future__ import annotations

import errno
import logging
import os
import random
import select
import threading
import time
import tty
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import serial

from rating_device.protocol import DEFAULT_BAUDRATE, baudrate_problem

logger = logging.getLogger(__name__)

SPLIT_MAX_CHUNK = 4
SPLIT_PAUSE_S = 0.002  # long enough for the reader to see the chunks as separate reads


@dataclass(frozen=True)
class Faults:
    """Fault switches for the line (all off by default)."""

    garble: float = 0.0  # per byte: probability of one flipped bit
    split: bool = False  # write each frame in random chunks of 1..4 bytes
    duplicate: float = 0.0  # per frame: probability it is written twice
    drop: float = 0.0  # per frame: probability it is not written at all
    delay_ms: int = 0  # wait before each frame

    def __post_init__(self) -> None:
        for name in ("garble", "duplicate", "drop"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} is a probability between 0 and 1, got {value}")
        if not 0 <= self.delay_ms <= 60_000:
            raise ValueError(f"delay_ms must be between 0 and 60000, got {self.delay_ms}")

    @property
    def any(self) -> bool:
        return bool(self.garble or self.split or self.duplicate or self.drop or self.delay_ms)


@dataclass
class FaultCounters:
    frames: int = 0
    dropped: int = 0
    duplicated: int = 0
    garbled_bytes: int = 0


class FaultInjector:
    """Turns one outgoing frame into the writes that reach the line (none when it is dropped)."""

    def __init__(self, faults: Faults | None = None, *, seed: int | None = None) -> None:
        self.faults = faults or Faults()
        self.counters = FaultCounters()
        self._random = random.Random(seed)

    @property
    def delay_s(self) -> float:
        return self.faults.delay_ms / 1000

    @property
    def pause_s(self) -> float:
        """Pause between the writes of one frame."""
        return SPLIT_PAUSE_S if self.faults.split else 0.0

    def shape(self, frame: bytes) -> list[bytes]:
        faults, rng = self.faults, self._random
        self.counters.frames += 1
        if faults.drop and rng.random() < faults.drop:
            self.counters.dropped += 1
            return []
        copies = [frame]
        if faults.duplicate and rng.random() < faults.duplicate:
            self.counters.duplicated += 1
            copies.append(frame)
        writes: list[bytes] = []
        for copy in copies:
            data = self._garble(copy)
            writes.extend(self._split(data) if faults.split else [data])
        return writes

    def _garble(self, data: bytes) -> bytes:
        if not self.faults.garble:
            return data
        out = bytearray(data)
        for index in range(len(out)):
            if self._random.random() < self.faults.garble:
                out[index] ^= 1 << self._random.randrange(8)
                self.counters.garbled_bytes += 1
        return bytes(out)

    def _split(self, data: bytes) -> list[bytes]:
        chunks, pos = [], 0
        while pos < len(data):
            size = self._random.randint(1, SPLIT_MAX_CHUNK)
            chunks.append(data[pos : pos + size])
            pos += size
        return chunks


def _replace_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` atomically: a reader never finds the path missing or half-made."""
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    os.replace(temporary, link)


class _FdLink(ABC):
    """What both kinds of line share: one non-blocking fd, reads, and fault-shaped frame writes."""

    link_path: Path

    def __init__(self, faults: FaultInjector | None = None) -> None:
        self.faults = faults or FaultInjector()
        self._fd: int | None = None
        self.overruns = 0  # writes cut short because the host did not read
        self._send_lock = threading.Lock()

    @property
    def plugged(self) -> bool:
        return self._fd is not None

    def fileno(self) -> int:
        if self._fd is None:
            raise OSError(errno.ENODEV, "keypad link is unplugged", str(self.link_path))
        return self._fd

    @property
    @abstractmethod
    def slave_path(self) -> str | None:
        """The device path the host's end reaches now (None while unplugged)."""

    @abstractmethod
    def plug(self) -> str:
        """Bring the line up; answers `slave_path`."""

    @abstractmethod
    def unplug(self) -> None:
        """Take the line down (nothing more is read or written until `plug`)."""

    @abstractmethod
    def host_connected(self) -> bool:
        """Whether a host is there to hear what the keypad sends."""

    def read(self) -> bytes:
        """Whatever bytes the host has written (b"" when none, unplugged or the host went away)."""
        if self._fd is None:
            return b""
        try:
            return os.read(self._fd, 4096)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:  # no slave open
                return b""
            raise

    def send(self, frame: bytes) -> int:
        """Write one frame through the fault injector; answers the bytes that reached the line.

        Thread-safe: a frame's writes are never interleaved with another send's.
        """
        with self._send_lock:
            writes = self.faults.shape(frame)
            if self.faults.delay_s:
                time.sleep(self.faults.delay_s)
            written = 0
            for index, chunk in enumerate(writes):
                if index and self.faults.pause_s:
                    time.sleep(self.faults.pause_s)
                written += self._write(chunk)
            return written

    def _write(self, data: bytes) -> int:
        if self._fd is None:
            return 0
        written = 0
        while written < len(data):
            try:
                written += os.write(self._fd, data[written:])
            except BlockingIOError:
                self.overruns += 1  # the host is not reading: the rest is lost, as on a UART
                break
            except OSError as exc:
                if exc.errno != errno.EIO:
                    raise
                break
        return written

    def replug(self) -> str:
        self.unplug()
        return self.plug()

    def close(self) -> None:
        self.unplug()


class PtyLink(_FdLink):
    """The keypad's side of a pty pair, reachable by the host at `link_path` while plugged in."""

    def __init__(self, link_path: str | Path, faults: FaultInjector | None = None) -> None:
        super().__init__(faults)
        self.link_path = Path(link_path)
        self._slave_path: str | None = None

    @property
    def slave_path(self) -> str | None:
        """The current /dev/pts/N (changes on every replug; open `link_path` instead)."""
        return self._slave_path

    def plug(self) -> str:
        """Create a pty, put both ends in raw mode, point the link at the slave; answers its path."""
        if self._fd is not None:
            return self._slave_path or ""
        master, slave = os.openpty()
        try:
            tty.setraw(slave)
            tty.setraw(master)
            slave_path = os.ttyname(slave)
        finally:
            os.close(slave)  # the host opens it by path; with no slave open the master sees POLLHUP
        os.set_blocking(master, False)
        self._fd, self._slave_path = master, slave_path
        _replace_symlink(self.link_path, slave_path)
        logger.info("keypad link %s -> %s", self.link_path, slave_path)
        return slave_path

    def unplug(self) -> None:
        """Close the pty (the host's reads fail as on a pulled USB cable) and remove the link."""
        with self._send_lock:  # no send is halfway through writing to the fd being closed
            master, slave_path = self._fd, self._slave_path
            self._fd = self._slave_path = None
        if master is None:
            return
        try:
            if os.readlink(self.link_path) == slave_path:
                self.link_path.unlink()
        except OSError:
            pass  # already re-pointed or removed by someone else: leave it
        os.close(master)
        logger.info("keypad link %s unplugged (%s closed)", self.link_path, slave_path)

    def host_connected(self) -> bool:
        """Whether some process has the slave (the serial port) open."""
        if self._fd is None:
            return False
        events = select.poll()
        events.register(self._fd, select.POLLIN | select.POLLHUP)
        return not any(flags & select.POLLHUP for _, flags in events.poll(0))


@dataclass(frozen=True)
class SerialLine:
    """An existing serial port for the keypad to open, instead of a pty of its own."""

    port: str
    baudrate: int = DEFAULT_BAUDRATE

    def __post_init__(self) -> None:
        if not self.port:
            raise ValueError("a serial port path is needed, e.g. /dev/ttyUSB0")
        problem = baudrate_problem(self.baudrate)
        if problem:
            raise ValueError(problem)


class SerialPortLink(_FdLink):
    """The keypad's side of a serial port that already exists, opened with pyserial.

    For a bench test of an edge box: a USB-serial adapter on a null-modem cable to the box's keypad
    port, or one end of a pty pair made by `socat`. The port is opened exclusively (a second
    emulator on it is refused) at the line's rate, 8N1, raw; on a real UART the rate paces the
    writes. A keypad cannot see whether the far end is open (the cable may carry no DTR), so it
    talks whenever its port is open, as firmware does: HELLO on plug, heartbeats, KEYs. Unplug
    closes the port (the far end hears silence; its keypad goes offline after the heartbeat
    timeout), replug reopens it and boots again.
    """

    def __init__(self, line: SerialLine, faults: FaultInjector | None = None) -> None:
        super().__init__(faults)
        self.line = line
        self.link_path = Path(line.port)
        self._port: serial.Serial | None = None

    @property
    def slave_path(self) -> str | None:
        return self.line.port if self._port is not None else None

    def plug(self) -> str:
        if self._port is not None:
            return self.line.port
        try:
            port = serial.Serial(self.line.port, self.line.baudrate, timeout=0, exclusive=True)
        except serial.SerialException as exc:  # no such port, no permission, or busy
            raise OSError(f"cannot open keypad port {self.line.port}: {exc}") from exc
        os.set_blocking(port.fileno(), False)
        self._port, self._fd = port, port.fileno()
        logger.info("keypad port %s open at %s baud", self.line.port, self.line.baudrate)
        return self.line.port

    def unplug(self) -> None:
        with self._send_lock:  # no send is halfway through writing to the fd being closed
            port, self._port, self._fd = self._port, None, None
        if port is None:
            return
        port.close()
        logger.info("keypad port %s closed (unplugged)", self.line.port)

    def host_connected(self) -> bool:
        return self._port is not None
