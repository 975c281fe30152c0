"""Each edge agent's outbox disk as central keeps it, reported outside the outbox: the `X-Device-Outbox`
header of the time sync (`GET /device/time`) and the `outbox` of a channel ping (a real WebSocket to
central under uvicorn). The report is device input: a malformed header is refused (422 naming it,
nothing kept, not even the clock beside it); a malformed report in a ping is ignored with a log line
while the ping is still answered and the channel stays open; a request or ping without a report is
answered as before. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from central.core.config import Settings
from central.devices.models import DeviceClock, DeviceOutbox
from common.device_channel import CHANNEL_PATH, CLOSE_BAD_MESSAGE, OUTBOX_HEADER, Hello
from edge.central import CLOCK_HEADER, TIME_PATH
from tests.central.devices.helpers import edge, outbox_state
from tests.conftest import FakeClock
from tests.edge.contract import wait_until
from tests.edge.test_channel import central_app

__all__ = ["edge"]
SINCE = datetime(2026, 11, 27, 1, 50, tzinfo=UTC)


def full_report(**changes: Any) -> dict[str, Any]:
    return {
        "state": "full",
        "since": SINCE.timestamp(),
        "free_bytes": 4096,
        "refused": 3,
        "refused_by_kind": {"keypad_press": 2, "presence": 1},
        **changes,
    }


def rows(session: Session, table: type[DeviceOutbox] | type[DeviceClock]) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_the_time_sync_header_keeps_the_latest_report_and_a_request_without_it_is_answered_as_before(
    client: TestClient, db: Engine, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    answer = client.get(TIME_PATH, headers={**edge["EDGE-P"], OUTBOX_HEADER: json.dumps(full_report())})
    assert answer.status_code == 200, answer.text
    kept = outbox_state(db, "EDGE-P")
    assert kept is not None, "the report is kept"
    assert kept.state == "full"
    assert kept.since == SINCE
    assert kept.refused == 3
    assert kept.refused_by_kind == {"keypad_press": 2, "presence": 1}
    assert kept.free_bytes == 4096
    assert kept.reported_at == clock(), "on central's clock"

    ok = {"state": "ok", "free_bytes": 2**40, "refused": 3, "refused_by_kind": {"keypad_press": 3}}
    clock.advance(minutes=1)
    assert client.get(TIME_PATH, headers={**edge["EDGE-P"], OUTBOX_HEADER: json.dumps(ok)}).status_code == 200
    kept = outbox_state(db, "EDGE-P")
    assert kept is not None
    assert kept.state == "ok", "one row per agent, the latest report"
    assert kept.since is None
    assert kept.free_bytes == 2**40, "a large disk's free bytes fit"

    assert client.get(TIME_PATH, headers=edge["EDGE-K"]).status_code == 200, "no report: answered as before"
    assert outbox_state(db, "EDGE-K") is None


TOO_MANY_KINDS = {f"kind_{n}": 0 for n in range(33)}
MALFORMED = [
    pytest.param("not json", "(report)", id="not-json"),
    pytest.param(json.dumps(full_report(state="melting")), "state", id="unknown-state"),
    pytest.param(json.dumps(full_report(free_bytes=-1)), "free_bytes", id="negative-free"),
    pytest.param(json.dumps(full_report(free_bytes=2**70)), "free_bytes", id="huge-free"),
    pytest.param(json.dumps(full_report(refused=10**40)), "refused", id="huge-count"),
    pytest.param(json.dumps(full_report(since=None)), "since", id="full-without-since"),
    pytest.param(json.dumps(full_report(state="ok")), "since", id="ok-with-since"),
    pytest.param(json.dumps(full_report(since=1e300)), "since", id="since-out-of-range"),
    pytest.param(json.dumps(full_report(disk="/dev/sda1")), "disk", id="unknown-field"),
    pytest.param(
        json.dumps(full_report(refused_by_kind={"keypad_press": 9})), "refused_by_kind", id="kinds>all"
    ),
    pytest.param(json.dumps(full_report(refused_by_kind={"x'); DROP": 1})), "refused_by_kind", id="bad-kind"),
    pytest.param(json.dumps(full_report(refused_by_kind=TOO_MANY_KINDS)), "refused_by_kind", id="too-many"),
    pytest.param(json.dumps([1, 2]), "(report)", id="not-an-object"),
]


@pytest.mark.parametrize(("header", "named"), MALFORMED)
def test_a_malformed_header_is_refused_naming_what_is_wrong_and_nothing_is_kept(
    client: TestClient,
    session: Session,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    header: str,
    named: str,
) -> None:
    headers = {**edge["EDGE-P"], CLOCK_HEADER: clock().isoformat(), OUTBOX_HEADER: header}
    answer = client.get(TIME_PATH, headers=headers)
    assert answer.status_code == 422, answer.text
    assert OUTBOX_HEADER in answer.text, "the refusal names the header"
    assert named in answer.text, f"the refusal names {named}"
    assert rows(session, DeviceOutbox) == 0, "no report kept"
    assert rows(session, DeviceClock) == 0, "nor the clock sent with it: the request is refused whole"


def test_an_overlong_header_is_refused(
    client: TestClient, session: Session, edge: dict[str, dict[str, str]]
) -> None:
    long = json.dumps(full_report(refused_by_kind={f"k{n}": 0 for n in range(500)}))
    answer = client.get(TIME_PATH, headers={**edge["EDGE-P"], OUTBOX_HEADER: long})
    assert answer.status_code == 422, answer.text
    assert "x-device-outbox" in answer.text.lower()
    assert rows(session, DeviceOutbox) == 0


def next_pong(ws: ClientConnection) -> None:
    """Frames until central's pong (a commands page may come first)."""
    while json.loads(ws.recv(timeout=30))["type"] != "pong":
        pass


def test_a_ping_keeps_the_report_a_malformed_one_is_ignored_and_a_plain_ping_still_works(
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="central.devices.channel")
    with central_app(settings, db, clock) as (_app, url):
        ws_url = "ws" + url.removeprefix("http") + CHANNEL_PATH
        with connect(ws_url, additional_headers=edge["EDGE-P"], proxy=None) as ws:
            ws.send(Hello(cursor=0).model_dump_json())
            ws.send('{"type": "ping"}')  # an agent older than the report
            next_pong(ws)
            assert outbox_state(db, "EDGE-P") is None

            ws.send(json.dumps({"type": "ping", "outbox": full_report(state="melting", free_bytes=-5)}))
            next_pong(ws)  # still answered: the channel is not broken by it
            assert "outbox report in a ping not understood" in caplog.text
            assert "state" in caplog.text and "free_bytes" in caplog.text, "the log line names what is wrong"

            ws.send(json.dumps({"type": "ping", "outbox": full_report()}))
            next_pong(ws)
            wait_until(lambda: outbox_state(db, "EDGE-P") is not None, what="the report kept")
            kept = outbox_state(db, "EDGE-P")
            assert kept is not None
            assert kept.state == "full"
            assert kept.refused_by_kind == {"keypad_press": 2, "presence": 1}

            clock.advance(seconds=20)
            ws.send(
                json.dumps({"type": "ping", "outbox": {"state": "ok", "free_bytes": 10**9, "refused": 3}})
            )
            next_pong(ws)
            wait_until(
                lambda: getattr(outbox_state(db, "EDGE-P"), "state", None) == "ok", what="the recovery"
            )

            ws.send(json.dumps({"type": "ping", "disk": "full"}))  # not a report: not a channel message
            with pytest.raises(ConnectionClosed) as closed:
                next_pong(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_BAD_MESSAGE, "an unknown field of the ping itself still closes"


def test_an_unchanged_report_is_not_written_on_every_ping(
    db: Engine, settings: Settings, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    """Free space aside, the same state is kept once per KEEP_OUTBOX_S: a hall's pings every 20 s do
    not each write a row. (Central reads a channel's frames in order: the pong to a plain ping comes
    after the report before it was dealt with.)"""
    with central_app(settings, db, clock) as (_app, url):
        ws_url = "ws" + url.removeprefix("http") + CHANNEL_PATH
        with connect(ws_url, additional_headers=edge["EDGE-P"], proxy=None) as ws:
            ws.send(Hello(cursor=0).model_dump_json())
            ws.send(json.dumps({"type": "ping", "outbox": full_report()}))
            next_pong(ws)
            wait_until(lambda: outbox_state(db, "EDGE-P") is not None, what="the first report kept")
            first = outbox_state(db, "EDGE-P")
            clock.advance(seconds=20)
            ws.send(json.dumps({"type": "ping", "outbox": full_report(free_bytes=0)}))
            ws.send('{"type": "ping"}')
            next_pong(ws)
            next_pong(ws)
            same = outbox_state(db, "EDGE-P")
            clock.advance(seconds=20)
            ws.send(json.dumps({"type": "ping", "outbox": full_report(refused=4)}))  # one more refused
            next_pong(ws)
            wait_until(
                lambda: getattr(outbox_state(db, "EDGE-P"), "refused", None) == 4, what="the changed report"
            )
            changed = outbox_state(db, "EDGE-P")
    assert first is not None and same is not None and changed is not None
    assert same == first, "the same state with less free space was not written"
    assert changed.reported_at == first.reported_at + timedelta(seconds=40), "written at the change"
    assert changed.free_bytes == 4096
