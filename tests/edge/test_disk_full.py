"""The disk-full outbox (issue 20) on a real full file system: the edge agent's outbox on a tmpfs of
a few MB mounted for the test, filled with a ballast file; an emulated keypad on a real pty; the real
central app (uvicorn on loopback) on SQLite and PostgreSQL.

Below the reserve evidence is refused and presses still go in; with the disk full, new presses are
refused loudly (ERROR naming them, counted, not ACKed: the keypad gives them up), while the rows
already stored drain to central (the spare file given back makes room for the delivery marks); the
ballast deleted, the next press is stored and the status clears, without a restart. Every press the
keypad saw ACKed is stored at central exactly once.

Mounting needs root (CAP_SYS_ADMIN), as in the CI container; elsewhere the test is skipped, and
tests/edge/test_outbox_full.py covers the same error path through SQLite's page limit.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from central.app import create_app
from central.core.config import Settings
from central.core.db import make_session_factory
from central.ratings.models import KeypadPress
from edge.agent import Agent
from edge.configfile import parse_edge_config
from edge.outbox_space import MB
from rating_device.emulator import KeypadEmulator, Press
from tests.browser import serve
from tests.central.devices.helpers import edge
from tests.conftest import FakeClock
from tests.edge.contract import free_port, wait_until
from tests.edge.test_against_central import press_count

__all__ = ["edge"]
DISK_MB = 16
RESERVE_MB = 6
SPARE_MB = 2
SETTLE = 30.0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of DISK_MB mounted at tmp_path/disk for the test (skipped where mounting is not allowed)."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "--lazy", str(where)], check=True)


def ballast(path: Path, *, leave: int = 0) -> None:
    """A file that takes the file system's free space down to `leave` bytes (0: every last block)."""
    free = os.statvfs(path.parent).f_bavail * os.statvfs(path.parent).f_frsize
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.posix_fallocate(fd, 0, free - leave)
        if leave == 0:  # whatever the allocation left, byte by byte, until the kernel says no
            os.lseek(fd, 0, os.SEEK_END)
            try:
                while True:
                    os.write(fd, b"\0" * 512)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)


def config_text(outbox: Path, keypad: Path, port: int) -> str:
    return f"""\
hall: 510000-ZWFW
central:
  url: http://127.0.0.1:{port}
  poll_wait_seconds: 1
  request_timeout_seconds: 10
outbox:
  path: {outbox}
  initial_backoff_seconds: 0.05
  max_backoff_seconds: 0.5
  reserve_mb: {RESERVE_MB}
  spare_mb: {SPARE_MB}
keypads:
  - name: KP-W01
    port: {keypad}
    window: W01
    reconnect_max_seconds: 0.2
    health_every_seconds: 2
    offline_after_seconds: 3
"""


def press_until_refused(emulator: KeypadEmulator, limit: int = 20) -> list[Press]:
    """Press keys one at a time until the edge refuses one (the keypad gives it up unACKed). A write
    may still fit where SQLite reuses its log; each press stored meanwhile is one more to deliver."""
    presses: list[Press] = []
    given_up = emulator.counters().given_up
    while len(presses) < limit:
        presses.append(emulator.press(2))
        assert emulator.wait_settled(SETTLE)
        if emulator.counters().given_up > given_up:
            return presses
    raise AssertionError(f"{limit} presses on a full disk and none refused")


def below_the_reserve(agent: Agent, emulator: KeypadEmulator, disk: Path) -> Press:
    """Free space below the reserve: evidence refused, a press still stored and ACKed."""
    ballast(disk / "ballast-low", leave=(RESERVE_MB - 3) * MB)
    assert agent.outbox.admit_media("evidence", "a test snapshot") is False
    assert agent.outbox.health().low, "below the reserve the status says evidence is refused"
    acked = emulator.counters().acked
    press = emulator.press(3)
    assert emulator.wait_settled(SETTLE)
    assert emulator.counters().acked == acked + 1, "a press still goes in below the reserve"
    return press


def full(agent: Agent, emulator: KeypadEmulator, disk: Path, caplog: pytest.LogCaptureFixture) -> list[Press]:
    """Every block taken: the next press is refused loudly, counted once, not ACKed."""
    ballast(disk / "ballast-full")
    presses = press_until_refused(emulator)
    refused = presses[-1]
    health = agent.outbox.health()
    assert health.full, "the status says the outbox is full"
    assert health.refused_by_kind.get("keypad_press") == 1, "the refused press is counted once"
    assert agent.readers["W01"].status().refused == 1
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("is full" in e and f"keypad_press KP-W01:{refused.seq}:" in e for e in errors), errors
    assert not agent.outbox.space.spare.exists(), "the spare went back to the file system"
    return presses


def space_returns(agent: Agent, emulator: KeypadEmulator, disk: Path) -> Press:
    """The ballast deleted: the next press is stored and ACKed, without a restart."""
    for path in disk.glob("ballast-*"):
        path.unlink()
    acked = emulator.counters().acked
    press = emulator.press(5)
    assert emulator.wait_settled(SETTLE)
    assert emulator.counters().acked == acked + 1, "stored once space returned"
    return press


def test_a_full_disk_refuses_new_presses_loudly_drains_what_is_stored_and_recovers(
    tmp_path: Path,
    small_disk: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="edge")
    port = free_port()
    config = parse_edge_config(config_text(small_disk / "outbox.db", tmp_path / "keypad-W01", port))
    with KeypadEmulator(1, tmp_path / "keypad-W01", heartbeat_seconds=0.5, seed=11) as emulator:
        agent = Agent(config, key=edge["EDGE-P"]["X-Device-Key"], clock=clock)
        spare = agent.outbox.space.spare
        assert spare.stat().st_size == SPARE_MB * MB, "the spare is kept from the start"
        agent.start()
        try:
            assert emulator.wait_host(SETTLE)
            presses = emulator.press_many([5, 4, 3, 2, 1] * 2, interval=0.01)  # central is down
            assert emulator.wait_settled(SETTLE)
            presses.append(below_the_reserve(agent, emulator, small_disk))
            presses += full(agent, emulator, small_disk, caplog)
            acked = emulator.counters().acked
            with serve(create_app(settings, engine=db, clock=clock), port):
                wait_until(lambda: press_count(db) == acked, what="the stored presses at central")
                wait_until(
                    lambda: agent.outbox.counts().pending == 0, what="the outbox drained on a full disk"
                )
                assert agent.outbox.health().full, "still full: the ballast is still there"
                caplog.clear()
                presses.append(space_returns(agent, emulator, small_disk))
                wait_until(lambda: press_count(db) == acked + 1, what="the press after recovery at central")
            assert "has room again" in caplog.text
            assert agent.outbox.health().ok, "the status clears"
            assert spare.stat().st_size == SPARE_MB * MB, "the spare is made again"
        finally:
            agent.stop()
        counters = emulator.counters()
    sent = {f"KP-W01:{p.seq}:{p.uptime_ms}" for p in presses}
    with make_session_factory(db)() as s:
        ids = list(s.scalars(select(KeypadPress.observation_id)))
    assert len(ids) == len(set(ids)), "no press stored twice"
    assert set(ids) <= sent, "only presses the keypad sent"
    assert len(ids) == counters.acked, "every ACKed press stored, none lost"
    assert counters.given_up == 1, "the one refused press, never stored"
