"""The outbox when its disk fills up, at unit level: SQLite's own SQLITE_FULL ("database or disk is
full"), produced by `PRAGMA max_page_count` (the database may not grow past the pages it has: the
same error path as a full disk, on any machine). A real full file system: tests/edge/test_disk_full.py.

Refused loudly (ERROR, rate-limited) and counted; a refused write rolls back whole and what is stored
stays, keeps draining (delivery marks, pruning, the cursor still work) and recovers by itself."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from common.device_channel import SINCE_MIN
from edge.config import KeypadConfig
from edge.keypads.reader import KeypadReader
from edge.outbox import Outbox
from edge.outbox_space import LOG_EVERY_S, OutboxFull, OutboxSpace, SpacePolicy
from rating_device.emulator import KeypadEmulator
from tests.edge.contract import wait_until
from tests.edge.test_outbox import press

GROWS = 60  # presses in one put: more than the last page can hold, so the database must grow


def evidence(n: int) -> dict[str, Any]:
    return {
        "id": f"C1:ev:{n}",
        "kind": "evidence",
        "at": datetime(2026, 11, 27, 2, tzinfo=UTC),
        "jpeg": "x" * 5000,
    }


def limit_pages(box: Outbox, pages: int = 1) -> None:
    """The database may not grow past `pages` (SQLite keeps at least what it has): SQLITE_FULL."""
    box._conn.execute(f"PRAGMA max_page_count = {pages}")


def fill_pages(box: Outbox) -> None:
    """Limit the pages, then store tiny rows until one is refused: no row fits any more."""
    limit_pages(box)
    for n in range(1000):
        try:
            box.put({"id": f"filler-{n}", "kind": "filler"})
        except OutboxFull:
            return
    raise AssertionError("the page limit never refused a row")


def lift_limit(box: Outbox) -> None:
    box._conn.execute("PRAGMA max_page_count = 1073741823")


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db", space=SpacePolicy(spare_bytes=256 * 1024))
    yield box
    box.close()


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]


def test_a_put_the_disk_cannot_hold_is_refused_whole_loudly_and_nothing_stored_is_lost(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    assert outbox.put_many([press(n) for n in range(20)]) == 20
    before = {p.id: p.body for p in outbox.pending(100)}
    limit_pages(outbox)
    with caplog.at_level(logging.INFO), pytest.raises(OutboxFull):
        outbox.put_many([press(n) for n in range(100, 100 + GROWS)])
    assert {p.id: p.body for p in outbox.pending(100)} == before, "the stored rows are untouched"
    assert outbox.counts().pending == 20, "the refused batch left no row (rolled back whole)"
    assert not outbox._conn.in_transaction, "the failed write's transaction is closed"
    assert outbox._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    [line] = errors(caplog)
    assert "is full" in line, line
    assert "REFUSED" in line, line
    assert "keypad_press KP-W01:100:1100" in line, "the line names what was refused"
    health = outbox.health()
    assert health.full, "the status says the outbox is full"
    assert health.refused == GROWS, "each refused observation is counted"
    assert health.refused_by_kind == {"keypad_press": GROWS}
    assert health.as_dict()["state"] == "full"


def test_a_delivery_mark_the_full_disk_cannot_hold_loses_nothing_and_goes_through_later(
    outbox: Outbox,
) -> None:
    """A mark grows its rows and their index entries (`settled_at`, the longer state): a few new
    pages per batch. On a real disk the spare file makes that room (tests/edge/test_disk_full.py); a
    page limit the spare cannot lift shows what happens when there is none: OutboxFull, every row
    still pending with its body, and the same mark goes through once there is room."""
    outbox.put_many([press(n) for n in range(400)])
    fill_pages(outbox)
    before = {p.id: p.body for p in outbox.pending(1000)}
    presses = [str(press(n)["id"]) for n in range(400)]
    with pytest.raises(OutboxFull):
        outbox.mark_delivered(presses)
    assert {p.id: p.body for p in outbox.pending(1000)} == before, "nothing stored was lost"
    assert outbox.health().full, "a full disk found by a mark refuses new work too"
    outbox.retain_delivered_seconds = 0
    assert outbox.prune() == 0
    assert outbox.get_meta("commands_cursor") is None
    lift_limit(outbox)
    assert outbox.mark_delivered(presses) == 400
    assert outbox.prune() == 400


def test_it_recovers_by_itself_when_space_returns(outbox: Outbox, caplog: pytest.LogCaptureFixture) -> None:
    outbox.put(press(1))
    spare = outbox.space.spare
    assert spare.stat().st_size == 256 * 1024, "the spare file is made when the outbox opens"
    limit_pages(outbox)
    with caplog.at_level(logging.INFO), pytest.raises(OutboxFull):
        outbox.put_many([press(n) for n in range(100, 100 + GROWS)])
    assert not spare.exists(), "the spare went back to the file system for the delivery marks"
    assert "gave the 0.2 MB spare file back" in caplog.text
    lift_limit(outbox)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert outbox.put_many([press(n) for n in range(100, 100 + GROWS)]) == GROWS
    assert "has room again" in caplog.text
    assert f"{GROWS} observation(s) were refused meanwhile" in caplog.text
    assert spare.stat().st_size == 256 * 1024, "the spare is made again before new rows go in"
    health = outbox.health()
    assert not health.full, "the status clears"
    assert health.refused == GROWS, "refusals stay counted since the start"
    assert outbox.counts().pending == 1 + GROWS


def test_refusals_are_logged_at_most_once_a_minute_and_counted_once_per_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    space = OutboxSpace(tmp_path / "outbox.db", SpacePolicy(), monotonic=lambda: now[0])
    with caplog.at_level(logging.ERROR):
        for n in range(50):
            for _ in range(6):  # a keypad retransmits a press it got no ACK for up to 5 times
                space.refused_full([(f"KP-W01:{n}:1", "keypad_press")])
            now[0] += 1.0
        assert len(errors(caplog)) == 1, "one line when it begins, not one per refusal"
        now[0] += LOG_EVERY_S
        space.refused_full([("C1:cam:1", "camera_health")])
    [_, again] = errors(caplog)
    assert "still the disk holding" in again, again
    assert "50 observation(s) refused in the last" in again, again
    assert "keypad_press 49, camera_health 1" in again, again
    assert space.health().refused == 51, "a retransmitted press is one refused observation"


def test_evidence_is_refused_below_the_reserve_and_smaller_observations_still_go_in(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    beyond = shutil.disk_usage(tmp_path).free + 2**40  # more free space than this disk will ever have
    box = Outbox(tmp_path / "outbox.db", space=SpacePolicy(reserve_bytes=beyond))
    try:
        with caplog.at_level(logging.INFO):
            with pytest.raises(OutboxFull):
                box.put_many([evidence(1), press(1)])  # one transaction: all or none
            assert box.admit_media("clip", "the clip of capture P-1") is False
            assert box.put(press(2)) is True, "a press still goes in below the reserve"
        [line] = errors(caplog)
        assert "below the reserve" in line, line
        assert "evidence and clips are REFUSED" in line, line
        health = box.health()
        assert health.low, "the status says evidence is refused"
        assert not health.full, "the rest is still stored"
        assert health.refused_by_kind == {"evidence": 1, "keypad_press": 1, "clip": 1}
        box.space.policy = SpacePolicy(reserve_bytes=0)  # space came back
        with caplog.at_level(logging.INFO):
            assert box.put(evidence(2)) is True
        assert "evidence and clips are stored again" in caplog.text
        assert box.health().ok
    finally:
        box.close()


def test_a_failed_commit_leaves_the_connection_usable(outbox: Outbox) -> None:
    """COMMIT itself failing (SQLite auto-rolls back, or not): the next write still begins."""
    outbox.put(press(1))
    limit_pages(outbox)
    for _ in range(3):
        with pytest.raises(OutboxFull):
            outbox.put_many([press(n) for n in range(100, 100 + GROWS)])
    lift_limit(outbox)
    assert outbox.put(press(2)) is True
    with pytest.raises(sqlite3.IntegrityError), outbox._transaction() as conn:  # rolled back, raised
        conn.execute("INSERT INTO observations (id, kind, body, created_at) VALUES ('x', 'k', '{}', 0)")
        conn.execute("INSERT INTO observations (id, kind, body, created_at) VALUES ('x', 'k', '{}', 0)")
    assert outbox.counts().pending == 2


def test_the_keypad_reader_does_not_ack_a_refused_press_and_keeps_reading(
    tmp_path: Path, outbox: Outbox
) -> None:
    link = tmp_path / "keypad-W01"
    config = KeypadConfig(name="KP-W01", port=str(link), window="W01", reconnect_max_seconds=0.2)
    with KeypadEmulator(7, link, heartbeat_seconds=0.5, seed=5) as emulator:
        reader = KeypadReader(config, outbox)
        reader.start()
        try:
            assert emulator.wait_host(20)
            fill_pages(outbox)
            emulator.press(3)
            assert emulator.wait_for(lambda c: c.given_up == 1, 20), "no ACK: the keypad gives the press up"
            assert reader.status().refused == 1, "one press refused, however often it was retransmitted"
            lift_limit(outbox)
            emulator.press(4)
            assert emulator.wait_for(lambda c: c.acked == 1, 20), "the next press is stored and ACKed"
            wait_until(lambda: reader.status().presses == 1, what="the press counted")
        finally:
            reader.stop()
    assert outbox.health().refused_by_kind == {"filler": 1, "keypad_press": 1}


def test_the_report_for_central_is_on_central_s_clock_and_within_its_bounds(outbox: Outbox) -> None:
    """What the agent tells central about its disk (tests/edge/test_outbox_report.py sends it)."""
    calm = outbox.health().report()
    assert calm is not None
    assert (calm.state, calm.since, calm.refused) == ("ok", None, 0)
    fill_pages(outbox)
    health = outbox.health()
    report = health.report(clock_offset_seconds=90.0)
    assert report is not None
    assert report.state == "full"
    assert health.since is not None
    assert report.since == health.since + 90.0, "since on central's clock: the box's plus its offset"
    assert report.refused == health.refused
    assert report.refused_by_kind == {"filler": 1}
    assert report.free_bytes == health.free_bytes
    unsynced = health.report(clock_offset_seconds=-health.since)  # a box whose clock says 1970
    assert unsynced is not None, "a clock far off does not cost the report"
    assert unsynced.since == SINCE_MIN
