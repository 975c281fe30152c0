"""`hallwatch keypad …`: an emulated rating keypad on a pty or a given serial port (the test fixture, the demo's keypads)."""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

import typer
from rich.console import Console

from rating_device.emulator import FIRMWARE, KeypadEmulator
from rating_device.protocol import DEFAULT_BAUDRATE, Prompt
from rating_device.script import Runner, parse_script, run_lines, run_terminal, stdin_is_terminal
from rating_device.transport import Faults, SerialLine

logger = logging.getLogger(__name__)
console = Console()
errors = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say what is wrong on stderr (one line) and exit with `code`."""
    errors.print(f"[bold red]错误[/]: {message}", highlight=False)
    return typer.Exit(code)


app = typer.Typer(
    help="Rating keypads (满意度评价器): emulate one on a pty or an existing serial port.",
    no_args_is_help=True,
)


def _say(line: str) -> None:
    print(line, flush=True)  # plain lines, flushed at once: other programs read this output


def _show_prompt(prompt: Prompt) -> None:
    _say(
        f"【{prompt.text}】工作人员：{prompt.staff_name or '—'}（工号 {prompt.staff_no or '—'}）"
        f" 办件编号：{prompt.case_no or '—'}"
    )


def _default_link(device_id: int) -> Path:
    return Path(tempfile.gettempdir()) / "hallwatch-keypads" / f"keypad-{device_id}"


def _interrupt_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _drive(runner: Runner, script: Path | None, stopped: threading.Event) -> None:
    """The script, then keys from the terminal or lines from stdin; then idle until interrupted."""
    if script is not None:
        try:
            commands = parse_script(script.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise fail(f"{script}: {exc}") from exc
        if not runner.run_all(commands):
            return
    if stdin_is_terminal():
        _say("按 1..5 评价（5 非常满意 … 1 非常不满意），u 拔出，r 插入，q 退出；Ctrl+C 停止")
        runner.host_wait_s = 0.0
        run_terminal(runner, sys.stdin, stopped.is_set)
        return
    if script is None and sys.stdin is not None and not run_lines(runner, sys.stdin):
        return
    stopped.wait()


def _start(emulator: KeypadEmulator, line: SerialLine | None) -> None:
    try:
        emulator.start()
    except OSError as exc:  # a given port that is missing, not ours to open, or in use
        raise fail(str(exc)) from exc
    if line is None:
        _say(f"keypad {emulator.device_id} link {emulator.link_path} pty {emulator.slave_path}")
        _say(f"评价器已就绪：请让边缘代理打开 {emulator.link_path}（{DEFAULT_BAUDRATE} 波特）")
        return
    _say(f"keypad {emulator.device_id} port {line.port} {line.baudrate} baud")
    _say(f"评价器已就绪：已打开串口 {line.port}（{line.baudrate} 波特），边缘代理请打开线缆另一端的串口")


@app.command("emulate")
def emulate(
    link: Path | None = typer.Option(
        None, "--link", help="Stable path the edge opens (a symlink to the pty; default: a temp dir)."
    ),
    port: str | None = typer.Option(
        None,
        "--port",
        help="Open this existing serial port instead of making a pty (e.g. a USB-serial adapter "
        "on a null-modem cable to an edge box).",
    ),
    baud: int = typer.Option(DEFAULT_BAUDRATE, "--baud", help="Line speed of --port (8N1)."),
    device_id: int = typer.Option(1, "--device-id", min=0, max=65534, help="Protocol device id."),
    heartbeat: float = typer.Option(
        5.0, "--heartbeat", min=0.1, max=3600, help="Seconds between heartbeats."
    ),
    garble: float = typer.Option(
        0.0, "--garble", min=0.0, max=1.0, help="Per byte: chance of a flipped bit."
    ),
    split: bool = typer.Option(False, "--split", help="Write frames in small chunks."),
    duplicate: float = typer.Option(
        0.0, "--duplicate", min=0.0, max=1.0, help="Per frame: chance it is sent twice."
    ),
    drop: float = typer.Option(0.0, "--drop", min=0.0, max=1.0, help="Per frame: chance it is not sent."),
    delay_ms: int = typer.Option(0, "--delay-ms", min=0, max=60_000, help="Delay before each frame."),
    script: Path | None = typer.Option(
        None, "--script", help="Commands: press N, sleep S, unplug, replug, wait, quit (one a line)."
    ),
    firmware: str = typer.Option(FIRMWARE, "--firmware", help="Firmware string sent in HELLO."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for faults and sequence numbers."),
) -> None:
    """Behave like a keypad on a new pty (or on --port): HELLO, heartbeats, prompts shown, KEY on each press."""
    if script is not None and not script.is_file():
        raise fail(f"--script {script}: no such file")
    if port is not None and link is not None:
        raise fail(
            "--link and --port exclude each other: --link names a new pty, --port opens an existing port"
        )
    try:
        faults = Faults(garble=garble, split=split, duplicate=duplicate, drop=drop, delay_ms=delay_ms)
        line = SerialLine(port, baud) if port is not None else None
        emulator = KeypadEmulator(
            device_id,
            line or link or _default_link(device_id),
            faults,
            heartbeat_seconds=heartbeat,
            firmware=firmware,
            seed=seed,
            on_prompt=_show_prompt,
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc
    stopped = threading.Event()
    _interrupt_on_sigterm()
    try:
        _start(emulator, line)
        _drive(Runner(emulator, _say, sleep=stopped.wait), script, stopped)
    except KeyboardInterrupt:
        _say("已停止 stopped")
    finally:
        stopped.set()
        emulator.close()
        counts = emulator.counters()
        _say(
            f"sent {counts.sent} acked {counts.acked} retransmits {counts.retransmits} "
            f"given_up {counts.given_up} prompts {counts.prompts}"
        )
