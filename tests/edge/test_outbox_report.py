"""Central sees an edge box's full outbox disk (issue 20): the real edge agent reports its outbox's
state outside the outbox — in its channel pings, and in its time syncs while it long-polls — to the
real central app (uvicorn on loopback, SQLite and PostgreSQL), central keeps it, and `hallwatch doctor`
names the box: a warning while the disk is low, an error while it is full, OK once space returns.

The disk fills for real: on a tmpfs mounted for the test (tests/edge/test_disk_full.py's fixtures:
needs root, skipped elsewhere) and through SQLite's page limit (`PRAGMA max_page_count`: the same
SQLITE_FULL on any machine). An emulated keypad on a real pty presses the keys. A central older than
the report (the previous release's channel contract) gets plain pings after it closes the first one.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from fastapi.testclient import TestClient
from pydantic import Field, TypeAdapter, ValidationError
from sqlalchemy import Engine
from typer.testing import CliRunner

from central.cli.main import app as cli
from central.core.config import Settings
from central.devices.channel import ChannelSession
from central.ops.doctor.outbox_check import OUTBOX_TITLE
from common.device_channel import Ack, Hello, OutboxReport, Ping, Pong, Reply, _ToCentral
from edge.agent import Agent
from edge.config import EdgeConfig
from edge.configfile import parse_edge_config
from rating_device.emulator import KeypadEmulator
from tests.central.devices.helpers import edge, outbox_state
from tests.conftest import FakeClock
from tests.edge.contract import free_port, wait_until
from tests.edge.test_channel import Keypads, agent_channel, central_app, queue_prompt
from tests.edge.test_disk_full import (
    SETTLE,
    below_the_reserve,
    config_text,
    full,
    press_until_refused,
    small_disk,
    space_returns,
)
from tests.edge.test_outbox_full import lift_limit, limit_pages

__all__ = ["edge", "small_disk"]


def agent_config(outbox: Path, keypad: Path, port: int, **central: Any) -> EdgeConfig:
    """test_disk_full's hall (one keypad, a 6 MB reserve, a 2 MB spare) with these `central` settings."""
    lines = "".join(f"  {name}: {value}\n" for name, value in central.items())
    return parse_edge_config(config_text(outbox, keypad, port).replace("central:\n", "central:\n" + lines, 1))


def reported(db: Engine) -> str | None:
    state = outbox_state(db, "EDGE-P")
    return state.state if state is not None else None


def doctor(settings: Settings) -> tuple[dict[str, Any], list[str]]:
    """`hallwatch doctor` on central's database: its outbox check (--json), and its plain output's lines
    from that check's on (the check's line, its details, its hint)."""
    env = {
        "HALLWATCH_DATABASE_URL": settings.database_url,
        "HALLWATCH_PATROL_KEY_FILE": str(settings.patrol_key_file),
    }
    as_json = CliRunner().invoke(cli, ["doctor", "--json"], env=env)
    [check] = [c for c in json.loads(as_json.stdout)["checks"] if c["name"] == "edge_outbox"]
    text = CliRunner().invoke(cli, ["doctor"], env=env).stdout.splitlines()
    [at] = [n for n, line in enumerate(text) if OUTBOX_TITLE in line]
    return check, text[at:]


def test_the_channel_reports_a_low_then_full_disk_and_the_doctor_names_the_box_until_space_returns(
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
    # no time sync: what reaches central here comes by the channel's pings
    config = agent_config(
        small_disk / "outbox.db", tmp_path / "keypad-W01", port, heartbeat_seconds=1, clock_sync_seconds=0
    )
    with (
        KeypadEmulator(1, tmp_path / "keypad-W01", heartbeat_seconds=0.5, seed=11) as emulator,
        central_app(settings, db, clock, port),
    ):
        agent = Agent(config, key=edge["EDGE-P"]["X-Device-Key"], clock=clock)
        agent.start()
        try:
            assert emulator.wait_host(SETTLE)
            wait_until(lambda: reported(db) == "ok", what="the first ping's report")
            assert agent.commands.opens >= 1, "over the WebSocket"
            check, _ = doctor(settings)
            assert check["status"] == "ok", check

            below_the_reserve(agent, emulator, small_disk)
            wait_until(lambda: reported(db) == "low", what="the low disk at central")
            check, _ = doctor(settings)
            assert check["status"] == "warning", check
            assert check["details"][0].startswith("EDGE-P "), check
            assert "low" in check["details"][0]

            full(agent, emulator, small_disk, caplog)
            wait_until(lambda: reported(db) == "full", what="the full disk at central")
            wait_until(
                lambda: getattr(outbox_state(db, "EDGE-P"), "refused", 0) >= 2,
                what="the refused press counted at central",
            )  # a ping may have carried the full state before the press was refused
            kept = outbox_state(db, "EDGE-P")
            assert kept is not None
            # (the keypad's health reports are refused too, every few seconds)
            assert kept.refused_by_kind.get("keypad_press") == 1, "the refused press, by kind"
            assert kept.refused_by_kind.get("evidence") == 1, "the refused snapshot, by kind"
            assert kept.refused == sum(kept.refused_by_kind.values())
            assert kept.since is not None, "since when"
            check, lines = doctor(settings)
            assert check["status"] == "error", check
            [line] = check["details"]
            assert line.startswith("EDGE-P 省中心边缘盒 (510000-ZWFW): 已满"), line
            assert re.search(r"已拒收 \d+ 条 refused \(.*keypad_press 1", line), line
            assert "evidence 1" in line, line
            assert "hallwatch edge outbox" in check["hint"]
            assert lines[0].startswith("错误"), lines
            assert lines[1].strip().startswith("- EDGE-P"), lines
            assert lines[2].strip().startswith("→") and "腾出" in lines[2], "what to do, under it"

            space_returns(agent, emulator, small_disk)
            wait_until(lambda: reported(db) == "ok", what="the recovery at central")
            check, _ = doctor(settings)
            assert check["status"] == "ok", check
        finally:
            agent.stop()


def test_a_long_polling_agent_reports_its_full_outbox_with_its_time_sync(
    tmp_path: Path, db: Engine, settings: Settings, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    port = free_port()
    config = agent_config(
        tmp_path / "outbox.db", tmp_path / "keypad-W01", port, channel="long_poll", clock_sync_seconds=0.5
    )
    with (
        KeypadEmulator(1, tmp_path / "keypad-W01", heartbeat_seconds=0.5, seed=12) as emulator,
        central_app(settings, db, clock, port),
    ):
        agent = Agent(config, key=edge["EDGE-P"]["X-Device-Key"], clock=clock)
        agent.start()
        try:
            assert emulator.wait_host(SETTLE)
            wait_until(lambda: reported(db) == "ok", what="the first time sync's report")
            with agent.outbox._lock:  # the database may not grow: SQLITE_FULL, as on a full disk
                limit_pages(agent.outbox)
            press_until_refused(emulator, limit=300)
            assert agent.outbox.health().full
            wait_until(lambda: reported(db) == "full", what="the full outbox at central")
            check, _ = doctor(settings)
            assert check["status"] == "error", check
            assert check["details"][0].startswith("EDGE-P "), check

            with agent.outbox._lock:
                lift_limit(agent.outbox)
            acked = emulator.counters().acked
            emulator.press(4)
            assert emulator.wait_settled(SETTLE)
            assert emulator.counters().acked == acked + 1, "stored once the outbox may grow again"
            wait_until(lambda: reported(db) == "ok", what="the recovery at central")
            check, _ = doctor(settings)
            assert check["status"] == "ok", check
            assert agent.commands.opens == 0, "no WebSocket: the time sync carried it"
        finally:
            agent.stop()


class OldPing(_ToCentral):
    """The ping of the release before the outbox report: no other field."""

    type: Literal["ping"] = "ping"


OLD_CONTRACT: TypeAdapter[Any] = TypeAdapter(
    Annotated[Hello | Ack | Reply | OldPing | Pong, Field(discriminator="type")]
)


def old_parse(self: ChannelSession, raw: str | bytes) -> Any:
    """`ChannelSession._parse` of the release before the outbox report: any frame its contract does not
    take is no message (and the channel is closed with 1007)."""
    try:
        message = OLD_CONTRACT.validate_json(raw)
    except ValidationError:
        return None
    return Ping() if isinstance(message, OldPing) else message  # what the reader answers with a pong


def test_a_central_older_than_the_report_gets_plain_pings_after_closing_the_first(
    tmp_path: Path,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    client: TestClient,
    edge: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Central is upgraded before the edges; should an edge come first, its channel still works."""
    monkeypatch.setattr(ChannelSession, "_parse", old_parse)  # the old central's parser
    report = OutboxReport(state="ok", free_bytes=10**9)
    keypads = Keypads()
    with (
        central_app(settings, db, clock) as (_app, url),
        agent_channel(
            tmp_path, url, edge["EDGE-P"]["X-Device-Key"], clock, keypads, heartbeat_seconds=1
        ) as channel,
    ):
        channel.outbox = lambda: report
        wait_until(lambda: channel.outbox is None, what="the agent to stop reporting on this channel")
        wait_until(lambda: channel.opens >= 2 and channel.connected.is_set(), what="the reconnect")
        opens, pings = channel.opens, channel.pings
        # were a plain ping closed, the agent would reconnect before its next ping
        wait_until(lambda: channel.pings >= pings + 3, what="three plain pings")
        assert channel.opens == opens, "plain pings are answered, the channel stays open"
        queue_prompt(client, clock, db, "C1")
        wait_until(lambda: keypads.cases == ["C1"], what="a prompt over the channel")
    assert outbox_state(db, "EDGE-P") is None, "the old central kept nothing"
