"""Script lines for the emulator: parsed strictly, each mistake named by its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from rating_device.protocol import Key
from rating_device.script import Command, Runner, parse_line, parse_script
from tests.rating_device.conftest import WAIT, has


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("press 5", Command("press", 5, 1)),
        ("  PRESS 1  # 非常不满意", Command("press", 1, 1)),
        ("3", Command("press", 3, 1)),
        ("sleep 1.5", Command("sleep", 1.5, 1)),
        ("unplug", Command("unplug", 0, 1)),
        ("replug", Command("replug", 0, 1)),
        ("wait", Command("wait", 0, 1)),
        ("quit", Command("quit", 0, 1)),
        ("", None),
        ("   # only a comment", None),
    ],
)
def test_lines(line: str, command: Command | None) -> None:
    assert parse_line(line, 1) == command


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("press 6", "press takes a key 1..5"),
        ("press 0", "press takes a key 1..5"),
        ("press 2.5", "press takes a key 1..5"),
        ("press", "press takes one number"),
        ("press five", "press needs a number"),
        ("sleep -1", "sleep takes 0..3600"),
        ("unplug now", "unplug takes no argument"),
        ("dance", "unknown command 'dance'"),
        ("9", "press takes a key 1..5"),
    ],
)
def test_bad_lines_are_named(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"line 4: {message}"):
        parse_line(line, 4)


def test_script_numbers_its_lines() -> None:
    assert parse_script("# hi\n\npress 5\nsleep 0\n") == [Command("press", 5, 3), Command("sleep", 0, 4)]
    with pytest.raises(ValueError, match="line 3"):
        parse_script("press 1\n\nfly\n")


def test_runner_drives_an_emulator(keypads, hosts, link: Path) -> None:
    said: list[str] = []
    emulator = keypads(2, link)
    host = hosts(link, auto_ack=True)
    runner = Runner(emulator, said.append, sleep=lambda seconds: None, host_wait_s=WAIT)
    assert runner.run_all(parse_script("press 5\npress 1\nwait\n"))
    host.wait_for(has(Key, 2))
    assert {k.message.key for k in host.of(Key)} == {1, 5}
    assert emulator.counters().acked == 2
    assert not runner.run(Command("quit"))
    assert runner.run(Command("unplug"))
    runner.run(Command("press", 3))
    assert "unplugged: press ignored" in said[-1]
    assert emulator.counters().sent == 2
