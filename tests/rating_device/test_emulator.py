"""The keypad emulator on a real pty, read by pyserial as the edge reads a keypad.

No timing assertions: each test waits (generously) for something to happen, or counts frames.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import serial

from rating_device.emulator import KeypadEmulator
from rating_device.protocol import (
    BROADCAST,
    MAX_RETRANSMITS,
    Ack,
    Error,
    ErrorCode,
    Frame,
    Heartbeat,
    Hello,
    Key,
    Prompt,
    encode,
)
from rating_device.transport import FaultInjector, Faults
from tests.rating_device.conftest import WAIT, has


def test_link_points_at_a_pty_until_stopped(keypads, link: Path) -> None:
    emulator = keypads(1, link)
    assert link.is_symlink()
    assert os.path.realpath(link) == emulator.slave_path
    assert emulator.slave_path is not None and emulator.slave_path.startswith("/dev/pts/")
    emulator.close()
    assert not link.exists() and not link.is_symlink()


def test_hello_arrives_when_the_host_opens_the_port(keypads, hosts, link: Path) -> None:
    keypads(21, link, firmware="kp-2.3")
    host = hosts(link)
    host.wait_for(has(Hello))
    (hello,) = host.of(Hello)
    assert hello.device_id == 21
    assert hello.message == Hello("kp-2.3")


def test_hello_from_the_host_is_answered(keypads, hosts, link: Path) -> None:
    keypads(21, link)
    host = hosts(link)
    host.wait_for(has(Hello))
    host.send(BROADCAST, Hello("edge 0.1"))
    host.wait_for(has(Hello, 2))


def test_heartbeats_carry_a_rising_uptime(keypads, hosts, link: Path) -> None:
    keypads(3, link, heartbeat_seconds=0.1)
    host = hosts(link)
    host.wait_for(has(Heartbeat, 3))
    uptimes = [frame.message.uptime_ms for frame in host.of(Heartbeat)]
    assert uptimes == sorted(uptimes) and uptimes[0] < uptimes[-1]
    assert {frame.device_id for frame in host.of(Heartbeat)} == {3}


def test_a_press_arrives_as_key_and_is_acked(keypads, hosts, link: Path) -> None:
    emulator = keypads(7, link, seed=1)
    host = hosts(link, auto_ack=True)
    assert emulator.wait_host(WAIT)
    press = emulator.press(4)
    host.wait_for(has(Key))
    first = host.of(Key)[0]
    assert (first.device_id, first.seq, first.message) == (7, press.seq, Key(4, press.uptime_ms))
    assert emulator.wait_settled(WAIT)
    counts = emulator.counters()
    assert (counts.sent, counts.acked, counts.given_up) == (1, 1, 0)


def test_key_is_retransmitted_until_acked_then_stops(keypads, hosts, link: Path) -> None:
    emulator = keypads(7, link)
    host = hosts(link)
    assert emulator.wait_host(WAIT)
    press = emulator.press(2)
    host.wait_for(has(Key, 3))  # the original and two retransmissions, nobody ACKing
    keys = host.of(Key)
    assert {(k.seq, k.message) for k in keys} == {(press.seq, Key(2, press.uptime_ms))}
    host.send(7, Ack(press.seq))
    assert emulator.wait_for(lambda c: c.acked == 1, WAIT)
    sent = 1 + emulator.counters().retransmits  # every KEY written before the ACK was taken
    host.wait_for(has(Key, sent))
    time.sleep(1.5)  # five retransmit intervals: none may come after the ACK was taken
    assert len(host.of(Key)) == sent
    assert emulator.counters().retransmits == sent - 1
    assert emulator.counters().given_up == 0


def test_key_is_sent_at_most_six_times_then_given_up(keypads, hosts, link: Path) -> None:
    emulator = keypads(7, link)
    host = hosts(link)
    assert emulator.wait_host(WAIT)
    press = emulator.press(1)
    assert emulator.wait_for(lambda c: c.given_up == 1, WAIT)
    host.wait_for(has(Key, 1 + MAX_RETRANSMITS))
    time.sleep(0.3)  # room for a seventh, which must not come
    keys = [k for k in host.of(Key) if k.seq == press.seq]
    assert len(keys) == 1 + MAX_RETRANSMITS
    assert emulator.counters().retransmits == MAX_RETRANSMITS


def test_presses_are_independent(keypads, hosts, link: Path) -> None:
    emulator = keypads(7, link)
    host = hosts(link, auto_ack=True)
    assert emulator.wait_host(WAIT)
    presses = emulator.press_many([5, 4, 3, 2, 1], interval=0.01)
    assert len({p.seq for p in presses}) == 5
    assert emulator.wait_settled(WAIT)  # every press ACKed: the host has read each one
    got = {(k.seq, k.message.key, k.message.uptime_ms) for k in host.of(Key)}
    assert got == {(p.seq, p.key, p.uptime_ms) for p in presses}
    assert emulator.counters().acked == 5


def test_prompt_is_acked_and_shown_once(keypads, hosts, link: Path) -> None:
    shown: list[Prompt] = []
    emulator = keypads(9, link, on_prompt=shown.append)
    host = hosts(link)
    assert emulator.wait_host(WAIT)
    prompt = Prompt("欧阳娜娜", "SC-0042", "川成审2024第0001号")
    seq = host.send(9, prompt)
    host.port.write(encode(Frame(9, seq, prompt)))  # the same frame again, as a resend
    host.wait_for(lambda frames: sum(f.message == Ack(seq) for f in frames) >= 2)
    assert emulator.last_prompt == prompt
    assert shown == [prompt]
    assert emulator.counters().prompts == 1


def test_frames_for_another_keypad_are_ignored(keypads, hosts, link: Path) -> None:
    emulator = keypads(9, link)
    host = hosts(link)
    assert emulator.wait_host(WAIT)
    host.send(10, Prompt("张三", "1", "C1"))
    host.send(BROADCAST, Hello("edge"))  # something the keypad does answer, to know it read the line
    host.wait_for(has(Hello, 2))
    assert emulator.counters().ignored == 1
    assert emulator.last_prompt is None
    assert host.of(Ack) == []


def test_a_message_a_keypad_does_not_take_gets_an_error(keypads, hosts, link: Path) -> None:
    emulator = keypads(9, link)
    host = hosts(link)
    assert emulator.wait_host(WAIT)
    host.send(9, Key(5, 1))
    host.wait_for(has(Error))
    assert host.of(Error)[0].message.code == ErrorCode.UNSUPPORTED


def test_bad_bytes_from_the_host_are_counted(keypads, hosts, link: Path) -> None:
    emulator = keypads(9, link)
    host = hosts(link)
    assert emulator.wait_host(WAIT)
    host.port.write(bytes.fromhex("a5 00 05 03 00 01 00 07 05 00 01 e2 40 00 00"))  # bad CRC
    host.send(9, Hello("edge"))
    assert emulator.wait_for(lambda c: c.bad_frames >= 1, WAIT)


@pytest.mark.parametrize(
    ("faults", "seed"),
    [
        (Faults(duplicate=0.5), 1),
        (Faults(split=True), 2),
        (Faults(garble=0.005), 3),
        (Faults(drop=0.2), 4),
        (Faults(delay_ms=20, split=True, duplicate=0.3, garble=0.003), 5),
    ],
    ids=["duplicate", "split", "garble", "drop", "all"],
)
def test_faults_still_deliver_exactly_the_presses(
    keypads, hosts, link: Path, faults: Faults, seed: int
) -> None:
    injector = FaultInjector(faults, seed=seed)
    emulator = keypads(12, link, injector, seed=seed)
    host = hosts(link, auto_ack=True)
    assert emulator.wait_host(WAIT)
    presses = emulator.press_many([5, 1, 4, 2, 3, 5, 5, 1, 2, 4], interval=0.02)
    assert emulator.wait_settled(WAIT)  # every press ACKed: the host has read each one
    counts = emulator.counters()
    assert (counts.acked, counts.given_up) == (len(presses), 0)
    got = {(k.device_id, k.seq, k.message.key, k.message.uptime_ms) for k in host.of(Key)}
    assert got == {(12, p.seq, p.key, p.uptime_ms) for p in presses}  # dedupe on (seq, uptime)
    assert all(f.device_id == 12 for f in host.frames)  # nothing corrupted got through
    if injector.counters.garbled_bytes:  # the decoder saw the damage and let none of it through
        assert host.decoder.stats.bad_frames + host.decoder.stats.garbage_bytes > 0
    if injector.counters.duplicated and not (faults.garble or faults.drop):
        host.wait_for(lambda frames: sum(isinstance(f.message, Key) for f in frames) > len(presses))


def test_unplug_and_replug_change_the_pty_behind_the_link(keypads, hosts, link: Path) -> None:
    emulator = keypads(5, link, seed=9)
    old_host = hosts(link, auto_ack=True)
    old_host.wait_for(has(Hello))
    old_pty = emulator.slave_path

    emulator.unplug()
    assert not link.exists()
    assert isinstance(old_host.wait_error(), serial.SerialException)
    with pytest.raises(RuntimeError):
        emulator.press(5)

    new_pty = emulator.replug()
    assert new_pty != old_pty  # the old host still holds the old pty's number
    assert os.path.realpath(link) == new_pty
    host = hosts(link, auto_ack=True)
    host.wait_for(has(Hello))
    assert emulator.wait_host(WAIT)
    press = emulator.press(3)
    host.wait_for(has(Key))
    assert host.of(Key)[0].seq == press.seq
    assert emulator.wait_settled(WAIT)
    assert emulator.counters().replugs == 1


def test_unplug_loses_an_unacked_press(keypads, hosts, link: Path) -> None:
    emulator = keypads(5, link)
    host = hosts(link)  # never ACKs
    assert emulator.wait_host(WAIT)
    emulator.press(2)
    host.wait_for(has(Key))
    emulator.unplug()
    assert emulator.wait_settled(WAIT)
    assert emulator.counters().lost == 1


def test_bad_arguments_are_refused(link: Path) -> None:
    with pytest.raises(ValueError, match="device_id"):
        KeypadEmulator(BROADCAST, link)
    with pytest.raises(ValueError, match="heartbeat"):
        KeypadEmulator(1, link, heartbeat_seconds=0)
    with pytest.raises(ValueError, match="garble"):
        Faults(garble=1.5)
    emulator = KeypadEmulator(1, link)
    try:
        emulator.start()
        with pytest.raises(ValueError, match="key"):
            emulator.press(6)
    finally:
        emulator.close()
