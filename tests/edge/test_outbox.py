"""The on-disk outbox: idempotent by id, ordered, durable across kill -9, safe across threads."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edge.outbox import Outbox


def press(n: int, *, keypad: str = "KP-W01", window: str = "W01") -> dict[str, Any]:
    return {
        "id": f"{keypad}:{n}:{1000 + n}",
        "kind": "keypad_press",
        "at": datetime(2026, 11, 27, 2, 0, tzinfo=UTC),
        "window": window,
        "keypad": keypad,
        "seq": n,
        "key": 5,
        "uptime_ms": 1000 + n,
    }


@pytest.fixture
def outbox(tmp_path: Path):
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


def test_put_is_idempotent_by_id_and_keeps_the_first_body(outbox: Outbox) -> None:
    first = press(1)
    assert outbox.put(first) is True
    assert outbox.put({**first, "key": 1}) is False  # a retransmit of the same press
    [row] = outbox.pending(10)
    assert row.id == "KP-W01:1:1001"
    assert '"key":5' in row.body and '"at":"2026-11-27T02:00:00+00:00"' in row.body
    assert outbox.put_many([press(1), press(2), press(2)]) == 1


def test_pending_in_order_then_delivered_and_rejected_leave_it(outbox: Outbox) -> None:
    outbox.put_many([press(n) for n in range(10)])
    assert [p.id for p in outbox.pending(3)] == [press(n)["id"] for n in range(3)]
    assert outbox.mark_delivered([press(n)["id"] for n in range(5)]) == 5
    assert outbox.mark_delivered([press(0)["id"]]) == 0  # already settled
    assert outbox.mark_rejected(str(press(5)["id"]), "no window W01") is True
    outbox.note_failure([str(press(6)["id"])], "503")
    pending = outbox.pending(100)
    assert [p.id for p in pending] == [press(n)["id"] for n in range(6, 10)]
    assert pending[0].attempts == 1
    counts = outbox.counts()
    assert (counts.pending, counts.delivered, counts.rejected) == (4, 5, 1)
    [rejected] = outbox.rejected()
    assert (rejected.id, rejected.detail) == (press(5)["id"], "no window W01")


def test_pending_batches_are_capped_by_bytes_but_never_empty(outbox: Outbox) -> None:
    """Evidence snapshots make rows ~50 kB: a batch of 1000 must not become a 50 MB upload."""
    big = [{**press(n), "padding": "x" * 10_000} for n in range(5)]
    outbox.put_many(big)
    sizes = [len(p.body) for p in outbox.pending(100)]
    assert len(sizes) == 5
    assert len(outbox.pending(100, max_bytes=sizes[0] * 2 + 10)) == 2
    assert len(outbox.pending(100, max_bytes=1)) == 1  # one row always goes, however large
    assert len(outbox.pending(3, max_bytes=10**9)) == 3  # the row limit still holds


def test_put_signals_the_uploader_only_for_new_rows(outbox: Outbox) -> None:
    outbox.arrived.clear()
    outbox.put(press(1))
    assert outbox.arrived.is_set()
    outbox.arrived.clear()
    outbox.put(press(1))
    assert not outbox.arrived.is_set()


def test_bad_observations_are_refused_with_the_reason(outbox: Outbox) -> None:
    with pytest.raises(ValueError, match=r"id of 1\.\.64"):
        outbox.put({"kind": "keypad_press"})
    with pytest.raises(ValueError, match=r"id of 1\.\.64"):
        outbox.put({"id": "x" * 65, "kind": "keypad_press"})
    with pytest.raises(ValueError, match="needs a kind"):
        outbox.put({"id": "a"})
    with pytest.raises(ValueError, match="timezone-aware"):
        outbox.put({"id": "a", "kind": "k", "at": datetime(2026, 1, 1)})
    assert outbox.counts().pending == 0


def test_delivered_rows_are_pruned_after_the_retention(tmp_path: Path) -> None:
    now = [1_000_000.0]
    box = Outbox(tmp_path / "o.db", retain_delivered_seconds=3600, clock=lambda: now[0])
    box.put_many([press(n) for n in range(3)])
    box.mark_delivered([press(0)["id"], press(1)["id"]])
    now[0] += 3599
    assert box.prune() == 0
    now[0] += 2
    assert box.prune() == 2
    assert box.counts().pending == 1 and box.counts().delivered == 0
    box.close()


def test_meta_values_persist(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    assert box.get_meta("commands_cursor") is None
    box.set_meta("commands_cursor", "41")
    box.set_meta("commands_cursor", "42")
    box.close()
    again = Outbox(tmp_path / "o.db")
    assert again.get_meta("commands_cursor") == "42"
    again.close()


def test_wal_and_full_sync(outbox: Outbox) -> None:
    assert outbox.durability() == ("wal", "full")


def test_puts_stay_synced_after_a_delivery_mark_that_is_not(outbox: Outbox) -> None:
    """Delivery marks skip their fsync (a lost mark only re-sends a duplicate); a press put after
    one must still be on disk when `put` returns, and so must one put after a failed mark."""
    outbox.put(press(1))
    outbox.mark_delivered([press(1)["id"]])
    assert outbox.durability() == ("wal", "full")
    with pytest.raises(sqlite3.ProgrammingError):
        outbox.mark_delivered([object()])  # type: ignore[list-item]
    assert outbox.durability() == ("wal", "full")


def test_threads_put_concurrently_without_loss(outbox: Outbox) -> None:
    def work(keypad: str) -> None:
        for n in range(200):
            outbox.put(press(n, keypad=keypad))

    threads = [threading.Thread(target=work, args=(f"KP{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outbox.counts().pending == 800
    assert len({p.id for p in outbox.pending(10_000)}) == 800


WRITER = """
import sys
from pathlib import Path
from edge.outbox import Outbox
box = Outbox(Path(sys.argv[1]))
for n in range(100_000):
    obs = {"id": f"KP:{n}:{n}", "kind": "keypad_press", "window": "W01", "seq": n % 65536}
    new = box.put(obs)
    print(obs["id"], int(new), flush=True)  # printed only after put returned: a confirmed row
"""


def test_confirmed_rows_survive_kill_9_and_are_not_duplicated(tmp_path: Path) -> None:
    """SIGKILL mid-write: every row put() confirmed is there after reopening, each once."""
    path = tmp_path / "outbox.db"
    for run in range(2):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
        )
        assert proc.stdout is not None
        confirmed = [proc.stdout.readline().split() for _ in range(300)]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if run == 1:  # the second writer re-puts the first run's ids: none of them is new
            assert all(new == "0" for _id, new in confirmed)
        box = Outbox(path)
        ids = [p.id for p in box.pending(1_000_000)]
        box.close()
        assert {i for i, _new in confirmed} <= set(ids)
        assert len(ids) == len(set(ids))


def test_rejected_rows_can_be_requeued(outbox: Outbox) -> None:
    outbox.put_many([press(1), press(2)])
    outbox.mark_rejected(str(press(1)["id"]), "pressed in the future (check the edge clock)")
    outbox.arrived.clear()
    assert outbox.requeue_rejected() == 1
    assert outbox.arrived.is_set()
    assert [p.id for p in outbox.pending(10)] == [press(1)["id"], press(2)["id"]]
