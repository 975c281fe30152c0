"""The keypad reader with the real emulator on a real pty (or a serial cable), read through pyserial."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.config import KeypadConfig
from edge.keypads.reader import KeypadReader
from edge.outbox import Outbox
from rating_device.emulator import KeypadEmulator
from rating_device.protocol import Prompt
from rating_device.transport import Faults, SerialLine
from tests.edge.contract import wait_until
from tests.rating_device.conftest import NullModemCable

SETTLE = 20.0  # seconds the emulator may take to get every press ACKed, given up or lost


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


def keypad_config(link: Path) -> KeypadConfig:
    return KeypadConfig(
        name="KP-W01",
        port=str(link),
        window="W01",
        reconnect_max_seconds=0.2,
        health_every_seconds=1,
        offline_after_seconds=2,
    )


def start(
    link: Path,
    outbox: Outbox,
    faults: Faults | None = None,
    *,
    citizen_present: Callable[[datetime], bool | None] | None = None,
) -> tuple[KeypadEmulator, KeypadReader]:
    emulator = KeypadEmulator(7, link, faults, heartbeat_seconds=0.5, seed=5).start()
    reader = KeypadReader(keypad_config(link), outbox, citizen_present=citizen_present)
    reader.start()
    wait_until(lambda: reader.status().online, what="the keypad to come online")
    return emulator, reader


@pytest.fixture
def line(tmp_path: Path, outbox: Outbox) -> Iterator[tuple[KeypadEmulator, KeypadReader]]:
    emulator, reader = start(tmp_path / "keypad-W01", outbox)
    yield emulator, reader
    reader.stop()
    emulator.close()


def stored_presses(outbox: Outbox) -> dict[str, dict[str, Any]]:
    rows = [json.loads(p.body) for p in outbox.pending(100_000)]
    return {r["id"]: r for r in rows if r["kind"] == "keypad_press"}


def health_reports(outbox: Outbox) -> list[dict[str, Any]]:
    return [json.loads(p.body) for p in outbox.pending(100_000) if p.kind == "keypad_health"]


def test_a_press_is_stored_then_acked(line: tuple[KeypadEmulator, KeypadReader], outbox: Outbox) -> None:
    emulator, reader = line
    press = emulator.press(4)
    assert emulator.wait_settled(SETTLE)
    counters = emulator.counters()
    assert (counters.acked, counters.given_up) == (1, 0)  # the ACK ended the retransmits
    [row] = stored_presses(outbox).values()
    assert row["id"] == f"KP-W01:{press.seq}:{press.uptime_ms}"
    assert (row["key"], row["seq"], row["uptime_ms"], row["window"]) == (4, press.seq, press.uptime_ms, "W01")
    assert datetime.fromisoformat(str(row["at"])).tzinfo is not None
    assert "citizen_present" not in row  # no camera at this window: no verdict, not even null
    assert reader.status().presses == 1


def test_retransmits_and_duplicated_frames_are_one_press(tmp_path: Path, outbox: Outbox) -> None:
    emulator, reader = start(tmp_path / "kp", outbox, Faults(duplicate=0.5, drop=0.3))
    try:
        presses = emulator.press_many([1, 2, 3, 4, 5] * 4, interval=0.01)
        assert emulator.wait_settled(SETTLE)
        counters = emulator.counters()
        line_faults = emulator.link.faults.counters
    finally:
        reader.stop()
        emulator.close()
    assert line_faults.duplicated > 0 and line_faults.dropped > 0 and counters.retransmits > 0
    sent = {f"KP-W01:{p.seq}:{p.uptime_ms}": p.key for p in presses}
    rows = stored_presses(outbox)
    assert set(rows) <= set(sent)
    assert counters.acked <= len(rows) <= counters.acked + counters.given_up
    assert all(rows[i]["key"] == sent[i] for i in rows)


def test_garbage_and_split_frames_resynchronise(tmp_path: Path, outbox: Outbox) -> None:
    emulator, reader = start(tmp_path / "kp", outbox, Faults(split=True, garble=0.01))
    try:
        noise = random.Random(11).randbytes(3000)
        emulator.link.send(noise)  # raw noise on the line, split in small chunks
        presses = emulator.press_many([5, 1, 3, 2, 4] * 3, interval=0.02)
        assert emulator.wait_settled(SETTLE)
        counters = emulator.counters()
        status = reader.status()
    finally:
        reader.stop()
        emulator.close()
    sent = {f"KP-W01:{p.seq}:{p.uptime_ms}": p.key for p in presses}
    rows = stored_presses(outbox)
    assert set(rows) <= set(sent)  # noise and garbled frames made no press of their own
    assert counters.acked <= len(rows) <= counters.acked + counters.given_up
    assert status.garbage_bytes > 0 and status.bad_frames > 0


def test_unplug_and_replug_reconnect(line: tuple[KeypadEmulator, KeypadReader], outbox: Outbox) -> None:
    emulator, reader = line
    emulator.press(5)
    assert emulator.wait_settled(SETTLE)
    emulator.unplug()
    wait_until(lambda: not reader.status().connected, what="the reader to notice the unplug")
    wait_until(
        lambda: any(h["online"] is False for h in health_reports(outbox)), what="an offline health report"
    )
    emulator.replug()
    wait_until(lambda: reader.status().online, what="the keypad back online")
    assert reader.status().reconnects == 1
    emulator.press(2)
    assert emulator.wait_settled(SETTLE)
    assert sorted(r["key"] for r in stored_presses(outbox).values()) == [2, 5]
    reports = health_reports(outbox)
    assert any(h["online"] is True and h["reconnects"] == 1 for h in reports)
    assert all(h["firmware"] == "hallwatch-emu 1.0" for h in reports if h["online"])


def test_a_replaced_keypad_with_another_id_is_addressed_by_broadcast_until_it_speaks(
    line: tuple[KeypadEmulator, KeypadReader], tmp_path: Path, outbox: Outbox
) -> None:
    """Keypad 7 is swapped for keypad 9 while the line is down: the edge's HELLO after the reconnect
    goes to BROADCAST (keypad 9 answers it, ignores nothing), and PROMPTs reach the new keypad."""
    old, reader = line
    old.close()
    wait_until(lambda: not reader.status().connected, what="the reader to notice the keypad gone")
    new = KeypadEmulator(9, tmp_path / "keypad-W01", heartbeat_seconds=None, seed=6).start()
    try:
        wait_until(lambda: reader.status().online, what="the new keypad online")
        wait_until(lambda: new.counters().hellos >= 2, what="the greeting and the answer to the edge's HELLO")
        prompt = Prompt("王五", "S003", "510000-2026-000456")
        reader.prompt(prompt, expires_at=datetime.now(UTC) + timedelta(minutes=5))
        wait_until(lambda: new.last_prompt == prompt, what="the prompt on the new keypad")
        assert new.counters().ignored == 0  # nothing was addressed to the old keypad's id
    finally:
        new.close()


def test_a_keypad_on_a_serial_cable_is_read_and_its_power_cycle_seen(tmp_path: Path, outbox: Outbox) -> None:
    """A keypad on a real serial line: the edge cannot see it unplugged, only silent, then back."""
    cable = NullModemCable()
    reader = KeypadReader(keypad_config(Path(cable.host_end)), outbox)
    emulator = KeypadEmulator(7, SerialLine(cable.keypad_end), heartbeat_seconds=0.5, seed=5)
    try:
        reader.start()  # the edge box is up first; the keypad is powered on later
        emulator.start()
        wait_until(lambda: reader.status().online, what="the keypad to come online")
        emulator.press(5)
        assert emulator.wait_settled(SETTLE)
        emulator.unplug()
        wait_until(lambda: not reader.status().online, what="the silent keypad to go offline")
        assert reader.status().connected  # the port itself is fine: nothing to reopen
        emulator.replug()
        wait_until(lambda: reader.status().online, what="the keypad back online")
        emulator.press(2)
        assert emulator.wait_settled(SETTLE)
        status = reader.status()
    finally:
        reader.stop()
        emulator.close()
        cable.close()
    assert emulator.counters().acked == 2
    assert sorted(r["key"] for r in stored_presses(outbox).values()) == [2, 5]
    assert (status.firmware, status.reconnects, status.bad_frames) == ("hallwatch-emu 1.0", 0, 0)
    assert any(h["online"] is False for h in health_reports(outbox))


def test_a_missing_port_is_retried_until_it_appears(tmp_path: Path, outbox: Outbox) -> None:
    link = tmp_path / "late"
    reader = KeypadReader(keypad_config(link), outbox)
    reader.start()
    try:
        wait_until(lambda: bool(health_reports(outbox)), what="an offline report for the absent keypad")
        assert health_reports(outbox)[0]["online"] is False
        emulator = KeypadEmulator(3, link, heartbeat_seconds=0.5).start()
        try:
            wait_until(lambda: reader.status().online, what="the late keypad online")
            emulator.press(3)
            assert emulator.wait_settled(SETTLE)
        finally:
            emulator.close()
    finally:
        reader.stop()
    assert [r["key"] for r in stored_presses(outbox).values()] == [3]


def test_prompts_reach_the_keypad_and_expired_ones_do_not(
    line: tuple[KeypadEmulator, KeypadReader], outbox: Outbox
) -> None:
    emulator, reader = line
    past = datetime.now(UTC) - timedelta(seconds=1)
    reader.prompt(Prompt("李四", "S002", "OLD-CASE"), expires_at=past)
    prompt = Prompt("张三", "S001", "510000-2026-000123")
    reader.prompt(prompt, expires_at=datetime.now(UTC) + timedelta(minutes=5))
    wait_until(lambda: emulator.last_prompt == prompt, what="the prompt on the keypad")
    assert emulator.counters().prompts == 1


@pytest.mark.parametrize("verdict", [True, False, None])
def test_a_press_carries_the_cameras_verdict_at_its_time(
    tmp_path: Path, outbox: Outbox, verdict: bool | None
) -> None:
    asked: list[datetime] = []

    def citizen_present(at: datetime) -> bool | None:
        asked.append(at)
        return verdict

    emulator, reader = start(tmp_path / "kp", outbox, citizen_present=citizen_present)
    try:
        emulator.press(5)
        assert emulator.wait_settled(SETTLE)
    finally:
        reader.stop()
        emulator.close()
    [row] = stored_presses(outbox).values()
    assert row["citizen_present"] is verdict
    assert datetime.fromisoformat(str(row["at"])) == asked[0]  # asked about the press time it stored


def test_a_failing_camera_hook_loses_the_verdict_not_the_press(
    tmp_path: Path, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    def citizen_present(at: datetime) -> bool | None:
        raise RuntimeError("camera pipeline broken")

    emulator, reader = start(tmp_path / "kp", outbox, citizen_present=citizen_present)
    try:
        press = emulator.press(1)
        assert emulator.wait_settled(SETTLE)
        counters = emulator.counters()
    finally:
        reader.stop()
        emulator.close()
    assert counters.acked == 1
    [row] = stored_presses(outbox).values()
    assert row["id"] == f"KP-W01:{press.seq}:{press.uptime_ms}" and row["citizen_present"] is None
    assert "no camera verdict" in caplog.text and "camera pipeline broken" in caplog.text
