"""The command poller against the contract stand-in: prompts handed over once, cursor kept on disk."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.central import make_client
from edge.commands import CURSOR_KEY, CommandPoller
from edge.config import CentralConfig
from edge.outbox import Outbox
from rating_device.protocol import Prompt
from tests.browser import serve
from tests.edge.contract import KEY, Central, contract_app, free_port, wait_until


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


class Windows:
    """The agent's side of delivery: which windows have keypads, and what each was handed."""

    def __init__(self, *windows: str) -> None:
        self.windows = set(windows)
        self.handed: list[tuple[str, Prompt]] = []

    def __call__(self, window: str, prompt: Prompt, expires_at: datetime) -> bool:
        if window not in self.windows:
            return False
        self.handed.append((window, prompt))
        return True


def test_prompts_are_handed_to_their_window_once_across_restarts(outbox: Outbox) -> None:
    central, port = Central(), free_port()
    soon = datetime.now(UTC) + timedelta(minutes=2)
    central.add_prompt("W01", "CASE-1", expires_at=soon, staff_name="张三", staff_no="S001")
    central.add_prompt("W07", "CASE-2", expires_at=soon)  # no keypad at W07 here
    central.add_prompt("W02", "CASE-3", expires_at=datetime.now(UTC) - timedelta(seconds=1))  # expired
    windows = Windows("W01", "W02")
    client = make_client(CentralConfig(url=f"http://127.0.0.1:{port}"), KEY, read_timeout=10)
    with serve(contract_app(central), port):
        poller = CommandPoller(client, outbox, windows, wait_seconds=1)
        assert poller.poll_once() == 1
        assert windows.handed == [("W01", Prompt("张三", "S001", "CASE-1"))]
        assert outbox.get_meta(CURSOR_KEY) == "3"
        assert poller.poll_once() == 0  # waited, nothing new
        # a restarted agent starts from the stored cursor: nothing replayed
        restarted = CommandPoller(client, outbox, windows, wait_seconds=1)
        restarted.start()
        central.add_prompt("W02", "CASE-4", expires_at=soon)
        wait_until(lambda: len(windows.handed) == 2, what="the new prompt")
        restarted.stop()
    client.close()
    assert windows.handed[1] == ("W02", Prompt("", "", "CASE-4"))
    assert outbox.get_meta(CURSOR_KEY) == "4"


def test_the_poller_rides_out_an_outage(outbox: Outbox) -> None:
    central, port = Central(), free_port()
    windows = Windows("W01")
    client = make_client(CentralConfig(url=f"http://127.0.0.1:{port}"), KEY, read_timeout=10)
    poller = CommandPoller(client, outbox, windows, wait_seconds=1, max_backoff_seconds=0.2)
    poller.start()  # nothing listens yet: it backs off and tries again
    central.add_prompt("W01", "CASE-9", expires_at=datetime.now(UTC) + timedelta(minutes=2))
    with serve(contract_app(central), port):
        wait_until(lambda: len(windows.handed) == 1, what="the prompt after the outage")
    poller.stop()
    client.close()


def test_unknown_kinds_and_malformed_prompts_are_skipped_and_the_cursor_moves_on(outbox: Outbox) -> None:
    central, port = Central(), free_port()
    soon = datetime.now(UTC) + timedelta(minutes=2)
    central.add_command(
        {"kind": "snapshot", "camera": "C1", "expires_at": soon.isoformat()}
    )  # a newer central
    central.add_command({"kind": "prompt", "window": "W01", "case_no": "", "expires_at": soon.isoformat()})
    central.add_prompt("W01", "CASE-5", expires_at=soon)
    windows = Windows("W01")
    client = make_client(CentralConfig(url=f"http://127.0.0.1:{port}"), KEY, read_timeout=10)
    with serve(contract_app(central), port):
        assert CommandPoller(client, outbox, windows, wait_seconds=1).poll_once() == 1
    client.close()
    assert windows.handed == [("W01", Prompt("", "", "CASE-5"))]
    assert outbox.get_meta(CURSOR_KEY) == "3"
