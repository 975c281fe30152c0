"""The pty link (a stable path the host opens) and the fault injector between keypad and line."""

from __future__ import annotations

import os
import time
from pathlib import Path

import serial

from rating_device.transport import FaultInjector, Faults, PtyLink

FRAME = bytes.fromhex("a5 00 05 03 00 01 00 07 05 00 01 e2 40 19 d9")


def test_no_faults_is_one_write_of_the_frame() -> None:
    assert FaultInjector().shape(FRAME) == [FRAME]


def test_drop_and_duplicate() -> None:
    assert FaultInjector(Faults(drop=1.0)).shape(FRAME) == []
    assert FaultInjector(Faults(duplicate=1.0)).shape(FRAME) == [FRAME, FRAME]


def test_split_writes_small_chunks_of_the_same_bytes() -> None:
    writes = FaultInjector(Faults(split=True), seed=3).shape(FRAME)
    assert b"".join(writes) == FRAME
    assert len(writes) > 1 and all(1 <= len(chunk) <= 4 for chunk in writes)


def test_garble_flips_one_bit_per_chosen_byte() -> None:
    injector = FaultInjector(Faults(garble=1.0), seed=4)
    (garbled,) = injector.shape(FRAME)
    assert all(bin(a ^ b).count("1") == 1 for a, b in zip(FRAME, garbled, strict=True))
    assert injector.counters.garbled_bytes == len(FRAME)


def test_same_seed_same_faults() -> None:
    faults = Faults(garble=0.1, split=True, duplicate=0.5, drop=0.2)
    runs = [[FaultInjector(faults, seed=8).shape(FRAME) for _ in range(3)] for _ in range(2)]
    assert runs[0] == runs[1]


def test_link_follows_the_pty_across_replug(tmp_path: Path) -> None:
    link = PtyLink(tmp_path / "dev" / "keypad-W01")
    try:
        first = link.plug()
        assert os.path.realpath(link.link_path) == first
        assert not link.host_connected()
        port = serial.Serial(str(link.link_path), 9600, timeout=1)
        assert link.host_connected()
        link.send(FRAME)
        assert port.read(len(FRAME)) == FRAME
        port.write(b"\x01\x02")
        got, deadline = b"", time.monotonic() + 15
        while len(got) < 2 and time.monotonic() < deadline:
            got += link.read()
        assert got == b"\x01\x02"
        second = link.replug()
        assert second != first  # the old port is still open, holding its number
        assert os.path.realpath(link.link_path) == second
        port.close()
        assert not link.host_connected()
    finally:
        link.unplug()
    assert not link.link_path.exists() and not link.link_path.is_symlink()
    assert link.send(FRAME) == 0  # unplugged: nothing reaches the line
