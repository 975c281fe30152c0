"""Central handing out minted TURN credentials (issue #20): a live view's offer (plain, and a patrol's)
gives the hall's agent and the answer credentials minted for that view, never a fixed user and never
the secret; the console pages give the browser credentials minted for its user, and
GET /api/v1/live/ice-servers fresh ones. The hall's agent answers through its real reply endpoint
(POST /api/v1/device/replies, as it does while it long-polls) while the offer waits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.models import User
from central.app import create_app
from central.core.config import Settings
from central.devices.models import DeviceCommand
from tests.central.devices.helpers import edge
from tests.central.live.helpers import OFFER, PROVINCIAL, camera, offer, people
from tests.conftest import FakeClock, SignedIn, with_form_token
from tests.edge.contract import wait_until

__all__ = ["edge", "people"]
SECRET = "central-and-coturn-share-this-0123456789"
TURN_URLS = ["turn:turn.example.invalid:3478?transport=udp", "turns:turn.example.invalid:5349?transport=tcp"]
STUN = {"urls": ["stun:stun.example.invalid:3478"]}
LIFETIME = timedelta(minutes=20)
ANSWER = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


@pytest.fixture
def api(
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    registry: dict[str, int],
    edge: dict[str, dict[str, str]],
    session: Session,
) -> Iterator[TestClient]:
    """Central with coturn's URLs and secret, and a static STUN server beside them; an offer waits up
    to a minute for the agent's answer."""
    turn = Settings(
        live_ice_servers=[STUN],
        live_turn_urls=TURN_URLS,
        live_turn_secret=SECRET,
        live_turn_lifetime_seconds=int(LIFETIME.total_seconds()),
    )
    patient = settings.model_copy(
        update={
            "live_answer_timeout_seconds": 60.0,
            **{name: getattr(turn, name) for name in turn.model_fields_set},
        }
    )
    camera(session, device="EDGE-P", name="CAM-1", at=clock(), windows=("W01",))
    app = create_app(patient, engine=db, clock=clock)
    with TestClient(app) as client:
        yield client
    app.state.notifier.stop()


def user_id(session: Session, username: str) -> int:
    found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


def minted(expiry: int, label: str) -> dict[str, Any]:
    """The TURN server as it must go out: draft-uberti-behave-turn-rest-00's username and password."""
    username = f"{expiry}:{label}"
    digest = hmac.new(SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return {"urls": TURN_URLS, "username": username, "credential": base64.b64encode(digest).decode()}


def answered(
    api: TestClient, session: Session, agent: dict[str, str], url: str, who: SignedIn
) -> httpx.Response:
    """POST an offer to `url` and, while it waits, answer its `live_offer` as the hall's agent does."""
    asked_before = session.scalar(select(DeviceCommand.id).order_by(DeviceCommand.id.desc()).limit(1)) or 0

    def queued() -> DeviceCommand | None:
        session.expire_all()
        return session.scalar(
            select(DeviceCommand).where(DeviceCommand.kind == "live_offer", DeviceCommand.id > asked_before)
        )

    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(api.post, url, json=offer(), auth=who)
        wait_until(lambda: queued() is not None or waiting.done(), what="the offer queued", timeout=60)
        command = queued()
        assert command is not None, waiting.result().text
        reply = {
            "command_id": command.id,
            "body": {"viewer": json.loads(command.payload)["viewer"], "sdp": ANSWER},
        }
        sent = api.post("/api/v1/device/replies", json=reply, headers=agent)
        assert sent.status_code == 204, sent.text
        response: httpx.Response = waiting.result(timeout=60)
        return response


def plain(servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ICE servers without the fields they leave out (a STUN server's username and credential)."""
    return [{name: value for name, value in server.items() if value is not None} for server in servers]


def agent_ice(session: Session, viewer: str) -> list[dict[str, Any]]:
    """The ICE servers the `live_offer` for `viewer` carried to the hall's agent."""
    session.expire_all()
    for command in session.scalars(select(DeviceCommand).where(DeviceCommand.kind == "live_offer")):
        payload = json.loads(command.payload)
        if payload["viewer"] == viewer:
            return plain(payload["ice_servers"])
    raise AssertionError(f"no live_offer for {viewer}")


def test_a_live_view_gets_turn_credentials_minted_for_it(
    api: TestClient,
    people: dict[str, SignedIn],
    session: Session,
    edge: dict[str, dict[str, str]],
    clock: FakeClock,
) -> None:
    expiry = int((clock() + LIFETIME).timestamp())
    views = []
    for who in ("prov", "prov", "prov2"):
        r = answered(api, session, edge["EDGE-P"], OFFER, people[who])
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        assert SECRET not in r.text, "never the secret"
        body = r.json()
        label = f"u{user_id(session, who)}.{body['viewer']}"
        assert body["sdp"] == ANSWER
        servers = plain(body["ice_servers"])
        assert servers == [STUN, minted(expiry, label)], "the static server, then coturn's"
        assert agent_ice(session, body["viewer"]) == servers, "the agent got the view's too"
        views.append(servers[1])
    assert len({v["username"] for v in views}) == 3, "each view its own username"
    assert len({v["credential"] for v in views}) == 3, "each view its own credential"


def test_a_patrols_view_gets_turn_credentials_minted_for_it(
    api: TestClient,
    people: dict[str, SignedIn],
    session: Session,
    edge: dict[str, dict[str, str]],
    clock: FakeClock,
) -> None:
    opened = api.post("/api/v1/patrols/sessions", json={"hall": PROVINCIAL}, auth=people["prov"])
    assert opened.status_code == 201, opened.text
    url = f"/api/v1/patrols/sessions/{opened.json()['id']}/offer"
    r = answered(api, session, edge["EDGE-P"], url, people["prov"])
    assert r.status_code == 200, r.text
    body = r.json()
    label = f"u{user_id(session, 'prov')}.{body['viewer']}"
    servers = plain(body["ice_servers"])
    assert servers == [STUN, minted(int((clock() + LIFETIME).timestamp()), label)]
    assert agent_ice(session, body["viewer"]) == servers
    assert SECRET not in r.text


def test_the_browser_asks_for_fresh_credentials_minted_for_its_user(
    api: TestClient, people: dict[str, SignedIn], session: Session, clock: FakeClock
) -> None:
    url = "/api/v1/live/ice-servers"
    first = api.get(url, auth=people["prov"])
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    label = f"u{user_id(session, 'prov')}.page"
    expected = {
        "ice_servers": [STUN, minted(int((clock() + LIFETIME).timestamp()), label)],
        "refresh_after_seconds": 600,
    }
    assert first.json() == expected, "half of the 20 minutes' lifetime"
    clock.advance(minutes=10)
    later = api.get(url, auth=people["prov"]).json()
    assert later["ice_servers"][1] == minted(int((clock() + LIFETIME).timestamp()), label), "fresh ones"
    assert SECRET not in first.text
    assert api.get(url, auth=people["clerk"]).status_code == 403, "a post user does not watch"
    assert api.get(url).status_code == 401


@pytest.mark.parametrize("page", ["live", "patrol"])
def test_the_console_pages_give_the_browser_credentials_minted_for_its_user(
    api: TestClient, people: dict[str, SignedIn], session: Session, clock: FakeClock, page: str
) -> None:
    if page == "live":
        url = f"/console/live/{PROVINCIAL}"
    else:
        opened = api.post("/api/v1/patrols/sessions", json={"hall": PROVINCIAL}, auth=people["prov"])
        url = f"/console/patrols/sessions/{opened.json()['id']}"
    who = people["prov"]
    signed = api.post("/console/login", data={"username": who.username, "password": who.password})
    assert signed.status_code == 200, signed.text  # followed to the console
    r = with_form_token(api).get(url)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store", "a page with credentials is not kept by caches"
    grid = re.search(r'<section id="live-grid"[^>]*>', r.text)
    assert grid is not None, "the live grid"
    attributes = {
        name: html.unescape(value) for name, value in re.findall(r'(data-[a-z-]+)="([^"]*)"', grid[0])
    }
    label = f"u{user_id(session, 'prov')}.page"
    assert json.loads(attributes["data-ice"]) == [STUN, minted(int((clock() + LIFETIME).timestamp()), label)]
    assert attributes["data-ice-url"] == "/api/v1/live/ice-servers"
    assert attributes["data-ice-refresh"] == "600"
    assert SECRET not in r.text
