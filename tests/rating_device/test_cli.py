"""`hallwatch keypad emulate` in a subprocess: it prints its link path, and a scripted press arrives."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rating_device.protocol import Hello, Key, Prompt
from tests.rating_device.conftest import WAIT, has

ROOT = Path(__file__).resolve().parents[2]


class Emulate:
    """The CLI running in its own process, its stdout read line by line on a thread."""

    def __init__(self, *args: str, stdin: int = subprocess.DEVNULL) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "central.cli", "keypad", "emulate", *args],
            cwd=ROOT,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, pattern: str, timeout: float = WAIT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.seen:
                match = re.search(pattern, line)
                if match:
                    self.seen.remove(line)
                    return match
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no line matching {pattern!r}; output: {self.seen}"
            try:
                self.seen.append(self.lines.get(timeout=remaining))
            except queue.Empty:
                continue

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(WAIT)


@pytest.fixture
def emulate() -> Iterator[type[Emulate]]:
    started: list[Emulate] = []

    class Tracked(Emulate):
        def __init__(self, *args: str, stdin: int = subprocess.DEVNULL) -> None:
            super().__init__(*args, stdin=stdin)
            started.append(self)

    yield Tracked
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait(WAIT)


def test_scripted_press_arrives_as_key(emulate, hosts, tmp_path: Path) -> None:
    script = tmp_path / "citizen.txt"
    script.write_text("# a citizen rates the service\npress 5\nsleep 0.1\n", encoding="utf-8")
    link = tmp_path / "keypad-W01"
    cli = emulate("--link", str(link), "--device-id", "3", "--heartbeat", "1", "--script", str(script))
    printed = Path(cli.expect(r"link (\S+) pty (\S+)").group(1))
    assert printed == link
    host = hosts(printed, auto_ack=True)
    host.wait_for(has(Key))
    key = host.of(Key)[0]
    assert (key.device_id, key.message.key) == (3, 5)
    cli.expect(r"按键 5 非常满意 → KEY seq (\d+)")

    host.send(3, Prompt("王五", "0007", "川2024-0042"))
    cli.expect(r"【请评价】工作人员：王五（工号 0007） 办件编号：川2024-0042")
    assert cli.stop() == 0
    cli.expect(r"sent 1 acked 1 ")
    assert not link.exists()


def test_script_unplug_and_replug(emulate, hosts, tmp_path: Path) -> None:
    script = tmp_path / "unplug.txt"
    script.write_text("press 4\nwait\nunplug\nreplug\npress 2\nwait\n", encoding="utf-8")
    link = tmp_path / "keypad-W02"
    cli = emulate("--link", str(link), "--device-id", "4", "--script", str(script))
    cli.expect(r"link (\S+) pty")
    first = hosts(link, auto_ack=True)
    first.wait_for(has(Key))
    cli.expect(r"replugged: .* -> (/dev/pts/\d+)")
    first.wait_error()
    second = hosts(link, auto_ack=True)
    second.wait_for(has(Key))
    assert second.of(Key)[0].message.key == 2
    cli.stop()


def test_a_bad_script_line_is_named(emulate, tmp_path: Path) -> None:
    script = tmp_path / "bad.txt"
    script.write_text("press 5\npress 9\n", encoding="utf-8")
    cli = emulate("--link", str(tmp_path / "keypad-W03"), "--script", str(script))
    assert cli.process.wait(WAIT) == 2
    cli.expect(r"line 2: press takes a key 1..5")
    assert not (tmp_path / "keypad-W03").exists()


def test_a_given_serial_port_is_driven(emulate, hosts, cable, tmp_path: Path) -> None:
    host = hosts(cable.host_end, auto_ack=True)
    script = tmp_path / "citizen.txt"
    script.write_text("press 1\nwait\n", encoding="utf-8")
    cli = emulate("--port", cable.keypad_end, "--baud", "19200", "--device-id", "6", "--script", str(script))
    cli.expect(rf"keypad 6 port {cable.keypad_end} 19200 baud")
    key = host.wait_for(has(Key)) and host.of(Key)[0]
    assert (key.device_id, key.message.key) == (6, 1)
    host.send(6, Prompt("王五", "0007", "川2024-0042"))  # on the line after the ACK: both are in
    cli.expect(r"【请评价】工作人员：王五")
    assert cli.stop() == 0
    cli.expect(r"sent 1 acked 1 ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "/nonexistent/ttyUSB9"], r"cannot open keypad port /nonexistent/ttyUSB9: .*No such file"),
        (["--port", "/dev/ttyUSB0", "--baud", "9601"], r"baudrate 9601 is not a standard rate"),
        (["--port", "/dev/ttyUSB0", "--link", "/tmp/k"], r"--link and --port exclude each other"),
    ],
)
def test_a_bad_serial_port_is_named(emulate, args: list[str], message: str) -> None:
    cli = emulate(*args)
    assert cli.process.wait(WAIT) == 2
    cli.expect(message)


def test_a_bad_option_is_refused(emulate, tmp_path: Path) -> None:
    cli = emulate("--link", str(tmp_path / "k"), "--garble", "2")
    assert cli.process.wait(WAIT) == 2


def test_keys_typed_in_a_terminal_are_pressed(emulate, hosts, tmp_path: Path) -> None:
    terminal, terminal_slave = os.openpty()  # the emulator's stdin is a real terminal
    try:
        link = tmp_path / "keypad-W04"
        cli = emulate("--link", str(link), "--device-id", "6", stdin=terminal_slave)
        cli.expect(r"按 1..5 评价")
        host = hosts(link, auto_ack=True)
        host.wait_for(has(Hello))
        os.write(terminal, b"2")
        host.wait_for(has(Key))
        assert host.of(Key)[0].message == Key(2, host.of(Key)[0].message.uptime_ms)
        cli.expect(r"按键 2 不满意")
        os.write(terminal, b"q")
        assert cli.process.wait(WAIT) == 0
    finally:
        os.close(terminal)
        os.close(terminal_slave)
