"""Driving an emulated keypad from a script, piped lines, or keys typed in a terminal.

Script lines (one per line; blank lines and `#` comments are skipped)::

    press 5      # press key 5 (非常满意); a bare `5` does the same
    sleep 1.5    # wait 1.5 s
    unplug       # pull the cable (the pty and the link path go away; a given port is closed)
    replug       # plug it back in (a new pty behind the same link path; a given port reopened)
    wait         # wait until every press so far is ACKed or given up
    quit         # wait as above, then stop the emulator

A scripted `press` first waits (up to HOST_WAIT_S) until the host has the port open, so a scripted press is not
sent into a port nobody reads. In a terminal, single keys act at once: 1..5 press, u unplug,
r replug, q quit.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import termios
import tty
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from rating_device.emulator import KeypadEmulator
from rating_device.messages import KEY_LABELS, KEY_MAX, KEY_MIN

logger = logging.getLogger(__name__)

HOST_WAIT_S = 60.0
SETTLE_WAIT_S = 30.0
ACTIONS = ("press", "sleep", "unplug", "replug", "wait", "quit")
TERMINAL_KEYS = {"u": "unplug", "r": "replug", "q": "quit"}


@dataclass(frozen=True)
class Command:
    action: str
    value: float = 0.0
    line: int = 0


def _number(word: str, line: int, action: str) -> float:
    try:
        return float(word)
    except ValueError:
        raise ValueError(f"line {line}: {action} needs a number, got {word!r}") from None


def parse_line(text: str, line: int = 0) -> Command | None:
    """One script line as a command (None for a blank or comment line); ValueError naming the line."""
    words = text.split("#", 1)[0].split()
    if not words:
        return None
    action, args = words[0].lower(), words[1:]
    if action.isdigit() and not args:
        action, args = "press", [action]
    if action not in ACTIONS:
        raise ValueError(f"line {line}: unknown command {words[0]!r} (expected one of {', '.join(ACTIONS)})")
    if action not in ("press", "sleep"):
        if args:
            raise ValueError(f"line {line}: {action} takes no argument")
        return Command(action, 0.0, line)
    if len(args) != 1:
        raise ValueError(f"line {line}: {action} takes one number")
    value = _number(args[0], line, action)
    if action == "press" and (not value.is_integer() or not KEY_MIN <= value <= KEY_MAX):
        raise ValueError(f"line {line}: press takes a key {KEY_MIN}..{KEY_MAX}, got {args[0]}")
    if action == "sleep" and not 0 <= value <= 3600:
        raise ValueError(f"line {line}: sleep takes 0..3600 seconds, got {args[0]}")
    return Command(action, value, line)


def parse_script(text: str) -> list[Command]:
    """Every command of a script; the first bad line raises ValueError naming it."""
    commands = (parse_line(line, number) for number, line in enumerate(text.splitlines(), start=1))
    return [command for command in commands if command is not None]


class Runner:
    """Carries out commands on one emulator; `out` receives one human-readable line per event."""

    def __init__(
        self,
        emulator: KeypadEmulator,
        out: Callable[[str], None],
        *,
        sleep: Callable[[float], object],
        host_wait_s: float = HOST_WAIT_S,
    ) -> None:
        self.emulator = emulator
        self.out = out
        self.sleep = sleep
        self.host_wait_s = host_wait_s

    def run(self, command: Command) -> bool:
        """Carry out one command; False once it was `quit`."""
        emulator = self.emulator
        if command.action == "press":
            self.press(int(command.value))
        elif command.action == "sleep":
            self.sleep(command.value)
        elif command.action == "unplug":
            emulator.unplug()
            self.out(f"已拔出 unplugged: {emulator.link_path}")
        elif command.action == "replug":
            self.replug()
        else:
            if not emulator.wait_settled(SETTLE_WAIT_S):
                self.out("仍有按键未确认 presses still unacknowledged")
            return command.action != "quit"
        return True

    def run_all(self, commands: Iterable[Command]) -> bool:
        return all(self.run(command) for command in commands)

    def replug(self) -> None:
        emulator = self.emulator
        try:
            slave = emulator.replug()
        except OSError as exc:  # a given port that is gone (adapter pulled): say so, stay unplugged
            self.out(f"插入失败 replug failed: {exc}")
            return
        self.out(f"已插入 replugged: {emulator.link_path} -> {slave}")

    def press(self, key: int) -> None:
        emulator = self.emulator
        if not emulator.link.plugged:
            self.out(f"键盘已拔出，按键 {key} 无效 unplugged: press ignored")
            return
        if self.host_wait_s and not emulator.wait_host(self.host_wait_s):
            self.out(f"no host opened {emulator.link_path} within {self.host_wait_s:.0f} s; pressing anyway")
        record = emulator.press(key)
        self.out(f"按键 {key} {KEY_LABELS[key]} → KEY seq {record.seq} uptime {record.uptime_ms} ms")


def run_lines(runner: Runner, stream: TextIO) -> bool:
    """Commands from piped lines; a bad line is reported and skipped. False once `quit` came."""
    for number, text in enumerate(stream, start=1):
        try:
            command = parse_line(text, number)
        except ValueError as exc:
            runner.out(f"错误 error: {exc}")
            continue
        if command is not None and not runner.run(command):
            return False
    return True


def run_terminal(runner: Runner, stream: TextIO, stopped: Callable[[], bool]) -> None:
    """Single keys from a terminal in cbreak mode until `q` or `stopped()`; restores the terminal."""
    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        while not stopped():
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            char = os.read(fd, 1).decode(errors="replace")
            if char.isdigit() and KEY_MIN <= int(char) <= KEY_MAX:
                runner.press(int(char))
            elif char.lower() in TERMINAL_KEYS and not runner.run(Command(TERMINAL_KEYS[char.lower()])):
                return
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()
