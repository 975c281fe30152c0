"""The emulator on a serial port that already exists (a USB-serial adapter cabled to an edge box).

The cable is two real ptys relayed to each other (`NullModemCable`); the keypad opens one end with
pyserial, the host the other, and neither knows the other is a pty.
"""

from __future__ import annotations

import termios
from pathlib import Path

import pytest
import serial

from rating_device.emulator import KeypadEmulator
from rating_device.protocol import Ack, Hello, Key, Prompt
from rating_device.script import Runner, parse_script
from rating_device.transport import SerialLine, SerialPortLink
from tests.rating_device.conftest import WAIT, NullModemCable, has


def test_the_keypad_greets_on_its_port_and_its_press_is_acked(keypads, hosts, cable: NullModemCable) -> None:
    host = hosts(cable.host_end, auto_ack=True)  # the edge box is up before the keypad is powered
    keypad = keypads(2, SerialLine(cable.keypad_end))
    assert keypad.slave_path == cable.keypad_end
    host.wait_for(has(Hello))
    assert keypad.wait_host(WAIT)

    press = keypad.press(4)
    assert keypad.wait_settled(WAIT)
    key = host.wait_for(has(Key)) and host.of(Key)[0]
    assert (key.device_id, key.seq, key.message.key, key.message.uptime_ms) == (
        2,
        press.seq,
        4,
        press.uptime_ms,
    )
    assert keypad.counters().acked == 1


def test_an_edge_that_opens_later_learns_the_keypad_by_hello(keypads, hosts, cable: NullModemCable) -> None:
    keypad = keypads(2, SerialLine(cable.keypad_end))
    keypad.wait_for(lambda counts: counts.hellos == 1, WAIT)  # said into a port nobody had open
    host = hosts(cable.host_end)
    host.send(2, Hello("edge 1.0"))
    host.wait_for(has(Hello))
    assert keypad.counters().hellos == 2


def test_a_prompt_over_the_port_is_acked_and_shown(keypads, hosts, cable: NullModemCable) -> None:
    host = hosts(cable.host_end)
    keypad = keypads(2, SerialLine(cable.keypad_end))
    seq = host.send(2, Prompt("李四", "0101", "川2026-0007"))
    host.wait_for(lambda frames: any(isinstance(f.message, Ack) and f.message.seq == seq for f in frames))
    assert keypad.last_prompt == Prompt("李四", "0101", "川2026-0007")


def test_unplug_closes_the_port_and_replug_boots_again(keypads, hosts, cable: NullModemCable) -> None:
    host = hosts(cable.host_end, auto_ack=True)
    keypad = keypads(2, SerialLine(cable.keypad_end))
    host.wait_for(has(Hello))
    first = keypad.press(5)
    assert keypad.wait_settled(WAIT)
    keypad.unplug()
    assert keypad.slave_path is None
    with serial.Serial(cable.keypad_end, 9600, exclusive=True):  # the port is free again
        pass
    with pytest.raises(RuntimeError, match="unplugged"):
        keypad.press(3)
    assert host.error is None  # the far end hears silence, not a hang-up

    assert keypad.replug() == cable.keypad_end
    host.wait_for(has(Hello, 2))
    second = keypad.press(3)
    assert keypad.wait_settled(WAIT)
    keys = [frame.message.key for frame in host.wait_for(has(Key, 2)) if isinstance(frame.message, Key)]
    assert keys[-1] == 3
    assert second.uptime_ms < first.uptime_ms + 1000  # a new boot: the uptime started again
    assert keypad.counters().acked == 2


def test_a_port_in_use_is_refused(keypads, cable: NullModemCable) -> None:
    keypads(2, SerialLine(cable.keypad_end))
    second = KeypadEmulator(3, SerialLine(cable.keypad_end), heartbeat_seconds=None)
    with pytest.raises(OSError, match=f"cannot open keypad port {cable.keypad_end}: .*lock"):
        second.start()
    assert not second.running


def test_a_missing_port_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "ttyUSB9"
    keypad = KeypadEmulator(1, SerialLine(str(missing)), heartbeat_seconds=None)
    with pytest.raises(OSError, match=f"cannot open keypad port {missing}: .*No such file"):
        keypad.start()
    assert not keypad.running


def test_a_port_gone_at_replug_is_said_and_the_keypad_stays_unplugged(
    keypads, cable: NullModemCable, tmp_path: Path
) -> None:
    adapter = tmp_path / "ttyUSB0"  # the adapter's device node: it vanishes when the adapter is pulled
    adapter.symlink_to(cable.keypad_end)
    keypad = keypads(2, SerialLine(str(adapter)))
    said: list[str] = []
    runner = Runner(keypad, said.append, sleep=lambda _: None, host_wait_s=0)
    assert runner.run_all(parse_script("unplug\n"))
    adapter.unlink()
    assert runner.run_all(parse_script("replug\npress 5\n"))
    assert said[1].startswith(f"插入失败 replug failed: cannot open keypad port {adapter}")
    assert "unplugged: press ignored" in said[2]
    assert not keypad.link.plugged

    adapter.symlink_to(cable.keypad_end)  # plugged back in
    runner.run_all(parse_script("replug\n"))
    assert said[3] == f"已插入 replugged: {adapter} -> {adapter}"


@pytest.mark.parametrize(
    ("port", "baudrate", "message"),
    [
        ("", 9600, "a serial port path is needed"),
        ("/dev/ttyUSB0", 9601, "baudrate 9601 is not a standard rate; use one of 1200, 2400"),
    ],
)
def test_a_bad_serial_line_is_refused(port: str, baudrate: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SerialLine(port, baudrate)


def test_the_line_speed_is_set_on_the_port(cable: NullModemCable) -> None:
    link = SerialPortLink(SerialLine(cable.keypad_end, 19200))
    link.plug()
    try:
        assert link.host_connected()
        input_speed, output_speed = termios.tcgetattr(link.fileno())[4:6]
        assert input_speed == output_speed == termios.B19200
    finally:
        link.close()
    assert not link.host_connected()
