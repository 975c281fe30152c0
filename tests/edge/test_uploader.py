"""The uploader against a stand-in for central's side of the contract, over real HTTP on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from edge.central import make_client
from edge.config import CentralConfig
from edge.outbox import Outbox
from edge.uploader import Uploader
from tests.browser import serve
from tests.edge.contract import KEY, Central, contract_app, free_port, wait_until
from tests.edge.test_outbox import press


@pytest.fixture
def central() -> Central:
    return Central()


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


@pytest.fixture
def uploader(outbox: Outbox, port: int) -> Iterator[Uploader]:
    config = CentralConfig(url=f"http://127.0.0.1:{port}", request_timeout_seconds=5)
    client = make_client(config, KEY)
    up = Uploader(outbox, client, batch_size=100, initial_backoff_seconds=0.02, max_backoff_seconds=0.2)
    up.start()
    yield up
    up.stop()
    client.close()


def delivered(outbox: Outbox, n: int) -> bool:
    return outbox.counts().delivered == n


def test_a_new_row_is_pushed_at_once(central: Central, port: int, outbox: Outbox, uploader: Uploader) -> None:
    with serve(contract_app(central), port):
        outbox.put(press(1))
        wait_until(lambda: delivered(outbox, 1), what="the press to be delivered")
        assert [p["id"] for p in central.presses()] == ["KP-W01:1:1001"]
        assert central.presses()[0]["at"] == "2026-11-27T02:00:00Z"
        outbox.put(press(2))  # the uploader went idle and wakes for the next one
        wait_until(lambda: delivered(outbox, 2), what="the second press")


def test_503_is_retried_until_central_takes_everything(
    central: Central, port: int, outbox: Outbox, uploader: Uploader
) -> None:
    central.mode = "503"
    with serve(contract_app(central), port):
        outbox.put_many([press(n) for n in range(250)])
        wait_until(lambda: central.refused >= 3, what="several refused attempts")
        assert outbox.counts().pending == 250 and not central.stored
        central.mode = "ok"
        wait_until(lambda: delivered(outbox, 250), what="the backlog to drain")
    assert len(central.presses()) == 250
    assert uploader.stats.failures >= 3
    assert outbox.pending(1) == []


def test_central_not_listening_then_back(
    central: Central, port: int, outbox: Outbox, uploader: Uploader
) -> None:
    outbox.put_many([press(n) for n in range(30)])
    wait_until(lambda: uploader.stats.failures >= 3, what="failed attempts while nothing listens")
    assert outbox.counts().pending == 30
    assert outbox.pending(1)[0].attempts >= 3  # each failed attempt counted, the row kept
    with serve(contract_app(central), port):
        outbox.put(press(30))
        wait_until(lambda: delivered(outbox, 31), what="everything once central listens")
    assert sorted(central.deliveries.values()) == [1] * 31


def test_a_nudge_ends_the_backoff_once_central_is_back(
    central: Central, port: int, outbox: Outbox, tmp_path: Path
) -> None:
    """After a long outage the uploader waits up to its max backoff; the channel reopening (the agent's
    nudge) sends the backlog at once. Here the backoff is 30–60 s and the wait for delivery 20 s."""
    config = CentralConfig(url=f"http://127.0.0.1:{port}", request_timeout_seconds=5)
    client = make_client(config, KEY)
    slow = Uploader(outbox, client, initial_backoff_seconds=60, max_backoff_seconds=60)
    slow.start()
    try:
        outbox.put(press(1))
        wait_until(lambda: slow.stats.failures >= 1, what="a failed attempt while nothing listens")
        with serve(contract_app(central), port):
            slow.nudge()
            wait_until(
                lambda: delivered(outbox, 1), what="the press, long before the backoff ends", timeout=20
            )
        assert slow.stats.nudged == 1 and slow.stats.failures == 1
    finally:
        slow.stop()
        client.close()


def test_resent_items_are_duplicates_stored_once(
    central: Central, port: int, outbox: Outbox, uploader: Uploader
) -> None:
    """As after a crash between central's commit and the edge's mark_delivered: sent again, kept once."""
    with serve(contract_app(central), port):
        outbox.put_many([press(n) for n in range(10)])
        wait_until(lambda: delivered(outbox, 10), what="first delivery")
    second = Outbox(outbox.path.with_name("replay.db"))  # an outbox that never learned of the delivery
    second.put_many([press(n) for n in range(10)])
    client = make_client(CentralConfig(url=f"http://127.0.0.1:{port}"), KEY)
    replay = Uploader(second, client, batch_size=4)
    with serve(contract_app(central), port):
        replay.start()
        wait_until(lambda: delivered(second, 10), what="the replay")
        replay.stop()
    client.close()
    second.close()
    assert len(central.presses()) == 10
    assert all(count == 2 for count in central.deliveries.values())


def test_rejected_items_are_set_aside_and_the_rest_delivered(
    central: Central, port: int, outbox: Outbox, uploader: Uploader
) -> None:
    with serve(contract_app(central), port):
        outbox.put_many([press(1), press(2, window="W99"), press(3)])
        wait_until(lambda: outbox.counts().pending == 0, what="the batch to settle")
        counts = outbox.counts()
        assert (counts.delivered, counts.rejected) == (2, 1)
        [rejected] = outbox.rejected()
        assert rejected.id == press(2)["id"] and rejected.detail == "no window W99"
        outbox.put(press(4))
        wait_until(lambda: delivered(outbox, 3), what="the next press")
    assert central.deliveries[str(press(2)["id"])] == 1  # never sent again


def test_a_malformed_item_is_isolated_and_rejected_alone(
    central: Central, port: int, outbox: Outbox, uploader: Uploader
) -> None:
    bad = {**press(5), "key": 9}
    with serve(contract_app(central), port):
        outbox.put_many([*(press(n) for n in range(5)), bad, *(press(n) for n in range(6, 12))])
        wait_until(lambda: outbox.counts().pending == 0, what="the batch to settle")
    counts = outbox.counts()
    assert (counts.delivered, counts.rejected) == (11, 1)
    [rejected] = outbox.rejected()
    assert rejected.id == bad["id"] and "422" in (rejected.detail or "")
    assert len(central.presses()) == 11


def test_a_large_backlog_drains_in_batches(
    central: Central, port: int, outbox: Outbox, uploader: Uploader
) -> None:
    outbox.put_many([press(n, keypad=f"KP{n % 7}") for n in range(5000)])
    with serve(contract_app(central), port):
        wait_until(lambda: delivered(outbox, 5000), what="the backlog", timeout=120)
    assert len(central.presses()) == 5000
    assert uploader.stats.batches <= 5000 // 100 + 5


def test_the_next_batch_is_in_flight_while_the_one_before_is_marked(
    central: Central, port: int, outbox: Outbox, uploader: Uploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drain overlaps the edge's disk work with central's: each batch goes out before the batch
    before it is marked delivered (here a slow disk), still one request at a time, in stored order,
    each row sent once."""
    mark_delivered = outbox.mark_delivered
    ahead_of_marks: list[int] = []  # per mark: rows central holds beyond those marked so far

    def slow_mark(ids: Sequence[str]) -> int:
        time.sleep(0.5)  # ample for central to take the next batch of 100, even on a loaded machine
        ahead_of_marks.append(len(central.presses()) - outbox.counts().delivered - len(ids))
        return mark_delivered(ids)

    monkeypatch.setattr(outbox, "mark_delivered", slow_mark)
    presses = [press(n) for n in range(500)]
    outbox.put_many(presses)
    with serve(contract_app(central), port):
        wait_until(lambda: delivered(outbox, 500), what="the backlog", timeout=60)
    assert ahead_of_marks == [100, 100, 100, 100, 0]  # each next batch was at central before the mark
    assert list(central.stored) == [p["id"] for p in presses]  # in the order stored
    assert set(central.deliveries.values()) == {1}  # nothing sent twice
