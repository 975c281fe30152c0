"""The whole chain against the real central app: emulated keypad on a real pty → edge reader →
outbox → real HTTP (uvicorn on loopback) → central → database, on SQLite and PostgreSQL.

Binding (一次一评, 一事一评): a rating requested at window W01 for case C1 reaches the keypad as a
PROMPT through the command long-poll; the next press is stored as C1's rating, bound to its staff.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.cases.models import Case
from central.core.config import Settings
from central.core.db import make_session_factory
from central.ratings.models import KeypadHealth, KeypadPress, Rating
from central.registry.models import ServiceWindow, Staff
from edge.agent import Agent
from edge.central import check_identity
from edge.configfile import parse_edge_config
from rating_device.emulator import KeypadEmulator
from rating_device.protocol import Prompt
from tests.browser import serve
from tests.central.devices.helpers import edge, served
from tests.conftest import FakeClock
from tests.edge.contract import free_port, wait_until
from tests.edge.test_agent import config_text, spawn

__all__ = ["edge"]
SETTLE = 30.0
PROMPTS = "/api/v1/ratings/prompts"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[KeypadEmulator]:
    with KeypadEmulator(1, tmp_path / "keypad-W01", heartbeat_seconds=0.5, seed=9) as emu:
        yield emu


def press_count(db: Engine) -> int:
    with make_session_factory(db)() as s:
        return int(s.scalar(select(func.count(KeypadPress.id))) or 0)


def old_case(client: TestClient, clock: FakeClock, case_no: str) -> None:
    """A case served yesterday at W01 by S001 (too old to prompt by itself)."""
    r = client.post(
        "/api/v1/cases/events", json=[served(f"{case_no}-e1", case_no, clock() - timedelta(days=1))]
    )
    assert r.status_code == 200, r.text


def test_a_requested_rating_is_prompted_pressed_and_bound_to_the_case(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
    emulator: KeypadEmulator,
    session: Session,
) -> None:
    old_case(client, clock, "C1")
    port = free_port()
    agent = Agent(
        parse_edge_config(config_text(tmp_path, port)), key=edge["EDGE-P"]["X-Device-Key"], clock=clock
    )
    with serve(create_app(settings, engine=db, clock=clock), port):
        agent.start()
        try:
            assert emulator.wait_host(SETTLE)
            assert client.post(PROMPTS, json={"window": "W01", "case_no": "C1"}).status_code == 201
            wait_until(lambda: emulator.last_prompt is not None, what="the PROMPT on the keypad")
            clock.advance(seconds=5)
            emulator.press(4)
            wait_until(lambda: press_count(db) == 1, what="the press stored at central")
            wait_until(lambda: agent.outbox.counts().pending == 0, what="health reports delivered too")
        finally:
            agent.stop()
    assert emulator.last_prompt == Prompt("张三", "S001", "C1")
    case_id = session.scalar(select(Case.id).where(Case.case_no == "C1"))
    rating = session.scalar(select(Rating).where(Rating.case_id == case_id))
    assert rating is not None and rating.level == 4
    assert rating.staff_id == session.scalar(select(Staff.id).where(Staff.code == "S001"))
    assert rating.window_id == session.scalar(select(ServiceWindow.id).where(ServiceWindow.code == "W01"))
    [stored] = session.scalars(select(KeypadPress)).all()
    assert (stored.keypad, stored.key, stored.outcome, stored.rating_id) == ("KP-W01", 4, "bound", rating.id)
    health = session.scalar(select(KeypadHealth).where(KeypadHealth.keypad == "KP-W01"))
    assert health is not None and health.firmware == "hallwatch-emu 1.0"


def test_an_edge_box_with_a_wrong_clock_stamps_with_centrals_time_and_its_press_binds(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
    emulator: KeypadEmulator,
    session: Session,
) -> None:
    """Central's clock (the test's FakeClock) is a week behind this machine's, which the agent runs on:
    unkept, every press would be refused as pressed in the future, or miss its prompt."""
    old_case(client, clock, "C1")
    port = free_port()
    agent = Agent(parse_edge_config(config_text(tmp_path, port)), key=edge["EDGE-P"]["X-Device-Key"])
    with serve(create_app(settings, engine=db, clock=clock), port):
        agent.start()
        try:
            wait_until(lambda: agent.time.offset != timedelta(0), what="the agent to measure central's clock")
            assert abs(agent.time.now() - clock()) < timedelta(seconds=5)
            assert emulator.wait_host(SETTLE)
            assert client.post(PROMPTS, json={"window": "W01", "case_no": "C1"}).status_code == 201
            wait_until(lambda: emulator.last_prompt is not None, what="the PROMPT on the keypad")
            emulator.press(5)
            wait_until(lambda: press_count(db) == 1, what="the press stored at central")
        finally:
            agent.stop()
    [stored] = session.scalars(select(KeypadPress)).all()
    assert stored.outcome == "bound"
    assert timedelta(0) <= stored.pressed_at - clock() < timedelta(seconds=30)  # on central's clock


def test_central_down_then_up_everything_is_delivered_once(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    emulator: KeypadEmulator,
) -> None:
    port = free_port()
    agent = Agent(
        parse_edge_config(config_text(tmp_path, port)), key=edge["EDGE-P"]["X-Device-Key"], clock=clock
    )
    agent.start()
    try:
        assert emulator.wait_host(SETTLE)
        presses = emulator.press_many([5, 3, 1, 2, 4] * 4, interval=0.01)
        assert emulator.wait_settled(SETTLE)  # confirmed by the edge while central is down
        acked = emulator.counters().acked
        wait_until(lambda: agent.uploader.stats.failures >= 2, what="failed uploads while central is down")
        assert press_count(db) == 0
        with serve(create_app(settings, engine=db, clock=clock), port):
            wait_until(lambda: press_count(db) >= acked, what="the buffered presses")
            wait_until(lambda: agent.outbox.counts().pending == 0, what="the outbox drained")
    finally:
        agent.stop()
    sent = {f"KP-W01:{p.seq}:{p.uptime_ms}" for p in presses}
    with make_session_factory(db)() as s:
        ids = list(s.scalars(select(KeypadPress.observation_id)))
    assert set(ids) <= sent and len(ids) == len(set(ids)) == acked


def test_kill_9_of_edge_run_then_restart_counts_exactly_once_at_central(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    emulator: KeypadEmulator,
) -> None:
    port = free_port()
    config = tmp_path / "hall.yaml"
    config.write_text(config_text(tmp_path, port, batch_size=5), encoding="utf-8")
    log = tmp_path / "agent.log"
    env_key = {"HALLWATCH_EDGE_KEY": edge["EDGE-P"]["X-Device-Key"]}
    # the agent process stamps presses with the real clock, so central runs on it too (not the fake one)
    with serve(create_app(settings, engine=db), port):
        first = spawn(config, log, env_key)
        try:
            assert emulator.wait_host(SETTLE), log.read_text()
            presses = emulator.press_many([1, 2, 3, 4, 5] * 12, interval=0.01)
            wait_until(lambda: press_count(db) > 0, what="uploads under way")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert emulator.wait_settled(SETTLE)
        confirmed = emulator.counters()
        second = spawn(config, log, env_key)
        try:
            wait_until(lambda: log.read_text().count("uploader started") == 2, what="the restarted agent")
            wait_until(lambda: press_count(db) >= confirmed.acked, what="every confirmed press after restart")
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=60) == 0, log.read_text()
    sent = {f"KP-W01:{p.seq}:{p.uptime_ms}" for p in presses}
    with make_session_factory(db)() as s:
        ids = list(s.scalars(select(KeypadPress.observation_id)))
    assert set(ids) <= sent and len(ids) == len(set(ids))
    assert confirmed.acked <= len(ids) <= confirmed.acked + confirmed.given_up + confirmed.lost


def test_the_agent_learns_whose_key_it_holds(
    anon: TestClient, edge: dict[str, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    anon.headers.update(edge["EDGE-P"])
    assert check_identity(anon, "510000-ZWFW") == "510000-ZWFW"
    assert check_identity(anon, "510104-ZWFW") == "510000-ZWFW"
    assert "central will reject this hall's windows" in caplog.text
    anon.headers["X-Device-Key"] = "hwk_nope"
    assert check_identity(anon, "510000-ZWFW") is None
    assert "refuses this device key" in caplog.text
