"""The hall's change stream under real uvicorn, with the writer on another app instance (another
central process's stand-in: on PostgreSQL the change crosses by LISTEN/NOTIFY): a snapshot, then each
change exactly once; resume with Last-Event-ID, across a central restart too; too far behind or ahead
gets a snapshot that says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete

from central.app import create_app
from central.core.config import Settings
from central.core.db import make_session_factory
from central.public.models import PublicFeedEvent
from tests.browser import serve
from tests.central.cases.helpers import ev
from tests.central.public.helpers import FEED, Message, SseReader, received
from tests.conftest import FakeClock


@pytest.fixture
def writer(client: TestClient, registry: dict[str, int]) -> TestClient:
    """Case events go in through this instance; the stream is read from another."""
    return client


def push(writer: TestClient, *events: dict[str, object]) -> None:
    response = writer.post("/api/v1/cases/events", json=list(events))
    assert response.status_code == 200, response.text


def read_until(reader: SseReader, last_id: int) -> list[Message]:
    got: list[Message] = []
    while not got or got[-1].id != last_id:
        got.append(reader.next())
    return got


@pytest.fixture
def central(db: Engine, settings: Settings, clock: FakeClock) -> Iterator[str]:
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        yield url


def test_a_watcher_gets_a_snapshot_then_every_change_once_and_a_resume_gets_the_rest(
    central: str, writer: TestClient
) -> None:
    reader = SseReader(f"{central}{FEED}/events")
    try:
        start = reader.next()
        assert start.event == "snapshot" and start.data["reason"] == "start"
        assert start.id == start.data["last_event_id"]
        push(writer, received("e1", "C-100", "2026-11-27T09:30:00+08:00"))
        first = reader.next()
        assert first.event == "case" and first.id == start.id + 1  # type: ignore[operator]
        assert first.data["case_no"] == "C-100" and first.data["applicant"] == "张*明"
        summary = reader.next()
        assert summary.event == "summary" and summary.data["open"] == 1
        push(writer, ev("e2", "C-100", "accepted", "2026-11-27T09:40:00+08:00"))
        accepted = read_until(reader, summary.id + 2)  # type: ignore[operator]
        assert [m.event for m in accepted] == ["case", "summary"]
        assert accepted[0].data["stage"] == "已受理" and accepted[0].data["light"] == "green"
    finally:
        reader.close()
    # Reconnecting after the first change: the rest, each once, with the same numbers.
    resumed = SseReader(f"{central}{FEED}/events", headers={"Last-Event-ID": str(first.id)})
    try:
        again = read_until(resumed, accepted[-1].id)  # type: ignore[arg-type]
        assert [m.id for m in again] == [summary.id, *[m.id for m in accepted]]
    finally:
        resumed.close()


def test_a_resume_across_a_central_restart_misses_nothing(
    db: Engine, settings: Settings, clock: FakeClock, writer: TestClient
) -> None:
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        reader = SseReader(f"{url}{FEED}/events")
        start = reader.next()
        push(writer, received("e1", "C-200", "2026-11-27T09:30:00+08:00"))
        seen = read_until(reader, start.id + 2)  # type: ignore[operator]
        reader.close()
    # Central is down; the hall keeps working.
    push(writer, received("e2", "C-201", "2026-11-27T09:35:00+08:00"))
    push(writer, ev("e3", "C-200", "accepted", "2026-11-27T09:36:00+08:00"))
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        resumed = SseReader(f"{url}{FEED}/events", headers={"Last-Event-ID": str(seen[-1].id)})
        try:
            missed = read_until(resumed, seen[-1].id + 4)  # type: ignore[operator]
            assert [m.id for m in missed] == list(range(seen[-1].id + 1, seen[-1].id + 5))  # type: ignore[operator]
            assert [(m.event, m.data.get("case_no")) for m in missed] == [
                ("case", "C-201"), ("summary", None), ("case", "C-200"), ("summary", None),
            ]  # fmt: skip
            push(writer, ev("e4", "C-201", "accepted", "2026-11-27T09:40:00+08:00"))
            live = resumed.next()
            assert live.id == missed[-1].id + 1 and live.data["case_no"] == "C-201"  # type: ignore[operator]
        finally:
            resumed.close()


def test_a_watcher_too_far_behind_or_ahead_gets_a_snapshot_that_says_so(
    central: str, writer: TestClient, db: Engine, clock: FakeClock
) -> None:
    push(writer, received("e1", "C-300", "2026-11-27T09:30:00+08:00"))
    push(writer, received("e2", "C-301", "2026-11-27T09:31:00+08:00"))
    with make_session_factory(db)() as session:  # the first changes pruned, as after a long absence
        session.execute(delete(PublicFeedEvent).where(PublicFeedEvent.seq <= 2))
        session.commit()
    behind = SseReader(f"{central}{FEED}/events", headers={"Last-Event-ID": "1"})
    ahead = SseReader(f"{central}{FEED}/events", headers={"Last-Event-ID": "999999"})
    garbage = SseReader(f"{central}{FEED}/events", headers={"Last-Event-ID": "abc"})
    try:
        for reader, reason in ((behind, "behind"), (ahead, "ahead"), (garbage, "start")):
            message = reader.next()
            assert (message.event, message.data["reason"]) == ("snapshot", reason)
            assert {c["case_no"] for c in message.data["cases"]} == {"C-300", "C-301"}
            assert message.id == 4
    finally:
        for reader in (behind, ahead, garbage):
            reader.close()


def test_an_unknown_hall_stream_is_a_404(central: str, registry: dict[str, int]) -> None:
    reader = SseReader(f"{central}/api/v1/public/halls/NOPE/events")
    try:
        with pytest.raises(EOFError):
            reader.next()
        assert reader.status == 404
    finally:
        reader.close()


def test_changes_numbered_on_other_days_keep_counting(
    central: str, writer: TestClient, clock: FakeClock
) -> None:
    reader = SseReader(f"{central}{FEED}/events")
    try:
        start = reader.next()
        clock.advance(days=1)
        push(writer, received("e1", "C-400", (clock() - timedelta(minutes=1)).isoformat()))
        assert reader.next().id == start.id + 1  # type: ignore[operator]
    finally:
        reader.close()


def test_open_streams_hold_no_database_connection(central: str, writer: TestClient) -> None:
    """More screens than the connection pool holds (15): each still gets its snapshot and changes."""
    readers = [SseReader(f"{central}{FEED}/events") for _ in range(24)]
    try:
        starts = [reader.next() for reader in readers]
        push(writer, received("e1", "C-500", "2026-11-27T09:30:00+08:00"))
        for reader, start in zip(readers, starts, strict=True):
            assert reader.next().id == start.id + 1  # type: ignore[operator]
        assert httpx.get(f"{central}{FEED}/progress", timeout=10).status_code == 200
    finally:
        for reader in readers:
            reader.close()
