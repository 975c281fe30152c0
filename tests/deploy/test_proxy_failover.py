"""nginx from deploy/nginx/hallwatch.conf terminating TLS (a test CA's certificate, which the clients
verify) in front of two real `hallwatch serve` processes on one PostgreSQL database, and the real
agents connected through it: an edge agent's command channel (WebSocket) and a display agent's hall
feed (SSE). Each instance is killed in turn (the first is started again before the second dies):
whichever instance a client was on, it reconnects through the proxy to the other one and keeps
working — a case pushed after the kill reaches the display, a rating prompt queued after it reaches
the edge's keypads over the WebSocket (never the long-poll fallback). PostgreSQL only: the instances
meet in its LISTEN/NOTIFY (on SQLite there is one process)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.core.actor import Actor
from central.core.clock import SHANGHAI
from central.devices.keys import issue_key
from central.registry.models import Device
from edge.clock import utc_now
from hall_display.agent import Tuning
from tests.central.cases.helpers import ev
from tests.central.devices.helpers import edge
from tests.conftest import ROOT_PASSWORD, FakeClock, make_user
from tests.deploy.stack import Central, issue_tls, need_program, nginx_files, running_nginx
from tests.edge.contract import wait_until
from tests.edge.test_channel import Keypads, agent_channel
from tests.hall_display.harness import RunningAgent, display_settings, running_agent

__all__ = ["edge"]
WAIT_S = 60.0  # generous: a failure means "never", not "slow"


@pytest.fixture
def display_key(session: Session, registry: dict[str, int]) -> str:
    device = Device(code="DISPLAY-TV", kind="display", name="大厅屏幕", hall_id=registry["hall"])
    session.add(device)
    session.flush()
    tests = Actor(kind="cli", name="tests")
    key = issue_key(session, device=device, now=datetime.now(UTC), issued_by=None, actor=tests).key
    session.commit()
    return key


@contextmanager
def two_instances(database_url: str, logs: Path) -> Iterator[tuple[Central, Central]]:
    """Two instances started side by side; stopped at the end, whatever state the test left them in."""
    settings = {"HALLWATCH_FORWARDED_ALLOW_IPS": "127.0.0.1"}  # as deploy/env/central.env.example
    a = Central(database_url, logs / "central-a.log", **settings)
    b = Central(database_url, logs / "central-b.log", **settings)
    try:
        a.start()
        b.start()
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()


def signed_in(url: str) -> httpx.Client:
    """An API client through the proxy (verifying the test CA through SSL_CERT_FILE), signed in."""
    api = httpx.Client(base_url=url, timeout=30)
    token = api.post("/api/v1/auth/token", data={"username": "root", "password": ROOT_PASSWORD})
    assert token.status_code == 200, token.text
    api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return api


def case_then_prompt(api: httpx.Client, case_no: str, display: RunningAgent, keypads: Keypads) -> None:
    """A case served yesterday at W01 reaches the hall's screen; then a rating prompt for it reaches
    the window's keypad through the edge agent."""
    yesterday = (datetime.now(UTC) - timedelta(days=1)).astimezone(SHANGHAI).isoformat()
    event = ev(f"{case_no}-e1", case_no, "received", yesterday, window_code="W01", staff_code="S001")
    pushed = api.post("/api/v1/cases/events", json=[event])
    assert pushed.status_code == 200, pushed.text
    hub = display.agent.hub
    assert hub is not None
    wait_until(lambda: case_no in hub.state.cases, what=f"{case_no} on the hall's screen", timeout=WAIT_S)
    queued = api.post("/api/v1/ratings/prompts", json={"window": "W01", "case_no": case_no})
    assert queued.status_code == 201, queued.text
    wait_until(
        lambda: case_no in keypads.cases, what=f"the prompt for {case_no} at the keypad", timeout=WAIT_S
    )


def test_agents_keep_working_through_the_proxy_when_their_instance_dies(
    tmp_path: Path,
    db: Engine,
    edge: dict[str, dict[str, str]],
    display_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("instances share their wake-ups through PostgreSQL only (SQLite: one process)")
    nginx = need_program("nginx", "nginx")
    make_user(db, "root", password=ROOT_PASSWORD, now=datetime.now(UTC))
    tls = issue_tls(tmp_path)
    # What deploy/env/edge.env.example tells a hall whose central has a private CA: the agents' HTTPS
    # clients and WebSocket verify central against it.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca))
    keypads = Keypads()
    with ExitStack() as stack:
        a, b = stack.enter_context(two_instances(db.url.render_as_string(hide_password=False), tmp_path))
        files = nginx_files(tmp_path / "nginx", tls, [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"])
        url = stack.enter_context(running_nginx(nginx, files))
        key = edge["EDGE-P"]["X-Device-Key"]
        channel = stack.enter_context(agent_channel(tmp_path, url, key, FakeClock(utc_now()), keypads))
        settings = display_settings(tmp_path, url, name="DISPLAY-TV")
        display = stack.enter_context(running_agent(settings, key=display_key, tuning=Tuning()))
        api = signed_in(url)
        stack.callback(api.close)

        assert channel.connected.wait(WAIT_S), "the edge's channel opens through the proxy"
        feed = display.agent.feed
        assert feed is not None
        wait_until(lambda: feed.connections >= 1, what="the display's feed through the proxy", timeout=WAIT_S)
        login = api.post("/console/login", data={"username": "root", "password": ROOT_PASSWORD})
        assert login.status_code == 303, login.text
        assert "secure" in login.headers["set-cookie"].lower(), (
            "central believes the proxy's X-Forwarded-Proto"
        )

        a.kill()
        case_then_prompt(api, "C-A-DEAD", display, keypads)
        a.start().wait_ready()
        b.kill()
        case_then_prompt(api, "C-B-DEAD", display, keypads)

        assert channel.opens >= 2, "the channel's instance died: it reconnected through the proxy"
        assert channel.fallbacks == 0, "over the WebSocket all along, never the long-poll"
        assert feed.connections >= 2, "the feed's instance died: it reconnected through the proxy"
        assert keypads.cases == ["C-A-DEAD", "C-B-DEAD"], "each prompt once, in order"
