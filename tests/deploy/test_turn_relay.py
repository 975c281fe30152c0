"""coturn from deploy/coturn/turnserver.conf (use-auth-secret) relaying a real live view on loopback,
with credentials central mints (central.live.turn_credentials), and refusing an expired one.

The edge's real live view answers an offer that reaches it as central sends one: a `live_offer`
command carrying central's ICE servers (LiveIce: the TURN server of HALLWATCH_LIVE_TURN_URLS with
credentials minted for the view) to the agent's command handler (edge.live.commands) and its
publisher, whose host candidates are off (`live.host_addresses: []`). The viewer (the headless probe
standing in for the browser) holds what the console page gives it (credentials minted for the user)
and gathers relay candidates only (iceTransportPolicy "relay"). So the only path between them is
relay to relay through coturn: video decoded at the viewer came that way, and coturn's log shows each
end's allocation, under its minted username, and its permission to the other's relay address."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aioice.ice
import aioice.stun
import aioice.turn
import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCIceTransportPolicy

from central.core.config import IceServerSetting, Settings
from central.live.turn_credentials import LiveIce, mint_credential, page_label, view_label
from common.contract import LiveOfferCommand, LiveOfferPayload
from common.contract.live import IceServer
from edge.live.commands import LiveCommands
from edge.live.probe import ProbeViewer
from edge.live.publisher import LivePublisher
from edge.video.capture import CameraReader
from tests.deploy.stack import CoturnFiles, coturn_files, issue_tls, need_program, read_log, running_coturn
from tests.edge.contract import wait_until
from tests.edge.live.cameras import HangingCamera, bright_picture, camera_config, publisher_for

CAMERA = "CAM-L"
VIEWER = "relay-viewer"
USER_ID = 7
WAIT_S = 60.0  # generous: a failure means "never", not "slow"
CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ (\w+)", re.MULTILINE)


@pytest.fixture
def publisher(monkeypatch: pytest.MonkeyPatch) -> Iterator[LivePublisher]:
    """The edge's publisher of one test camera, offering no host candidate at all."""
    # The publisher sets aioice's host addresses for the whole process: put aioice's own back after.
    monkeypatch.setattr(aioice.ice, "get_host_addresses", aioice.ice.get_host_addresses)
    camera = HangingCamera(bright_picture())
    reader = CameraReader(camera_config(CAMERA), outbox=None, open_source=camera.open)
    reader.start()
    publisher = publisher_for({CAMERA: reader}, host_addresses=[])
    publisher.start()
    try:
        yield publisher
    finally:
        publisher.stop()
        reader.stop()


class Replies:
    """The agent's replies, as its channel would send them up to central."""

    def __init__(self) -> None:
        self.bodies: dict[int, dict[str, Any]] = {}
        self.arrived = threading.Event()

    def __call__(self, command_id: int, body: dict[str, Any]) -> bool:
        self.bodies[command_id] = body
        self.arrived.set()
        return True


def offer_command(sdp: str, ice_servers: list[IceServerSetting]) -> LiveOfferCommand:
    """The command as central queues it (central/live/service.py) and the channel hands it over."""
    payload = LiveOfferPayload(
        viewer=VIEWER,
        camera=CAMERA,
        profile="tile",
        sdp=sdp,
        ice_servers=[IceServer.model_validate(s.model_dump()) for s in ice_servers],
    )
    expires_at = datetime.now(UTC) + timedelta(minutes=1)
    wire = {
        **payload.model_dump(mode="json"),
        "id": 1,
        "kind": "live_offer",
        "expires_at": expires_at.isoformat(),
    }
    return LiveOfferCommand.model_validate(wire)


def candidates(sdp: str) -> list[tuple[str, int, str]]:
    return [(host, int(port), kind) for host, port, kind in CANDIDATE.findall(sdp)]


def central_ice(coturn: CoturnFiles) -> LiveIce:
    """What central hands out, from its settings: coturn's URL and its static-auth-secret."""
    settings = Settings(
        live_turn_urls=[f"turn:127.0.0.1:{coturn.port}?transport=udp"], live_turn_secret=coturn.secret
    )
    return LiveIce.from_settings(settings)


def test_a_live_view_flows_through_the_turn_relay_alone(tmp_path: Path, publisher: LivePublisher) -> None:
    turnserver = need_program("turnserver", "coturn")
    coturn = coturn_files(tmp_path / "coturn", issue_tls(tmp_path))
    ice = central_ice(coturn)
    now = datetime.now(UTC)  # coturn judges the expiry by its own clock: the wall clock
    (turn,) = ice.servers(label=view_label(user_id=USER_ID, viewer=VIEWER), now=now)  # the agent's
    (page,) = ice.servers(label=page_label(user_id=USER_ID), now=now)  # what the page gives the browser
    browser_ice = RTCIceServer(**page.model_dump(exclude_none=True))
    replies = Replies()
    commands = LiveCommands(publisher, cameras=[CAMERA], reply=replies)
    wait_until(lambda: publisher.online(CAMERA), what="the camera's first frames", timeout=WAIT_S)

    async def watch() -> tuple[str, str, int]:
        relay_only = RTCConfiguration(
            iceServers=[browser_ice], iceTransportPolicy=RTCIceTransportPolicy.RELAY
        )
        viewer = ProbeViewer(configuration=relay_only)
        try:
            offer = await viewer.offer()
            assert commands(offer_command(offer, [turn])), "the agent takes the offer over"
            assert await asyncio.to_thread(replies.arrived.wait, WAIT_S), "the agent replies"
            answer = replies.bodies[1]
            assert "sdp" in answer, f"the agent answers, not refuses: {answer}"
            await viewer.accept(answer["sdp"])
            return offer, answer["sdp"], await viewer.wait_frames(5, WAIT_S)
        finally:
            await viewer.close()

    try:
        with running_coturn(turnserver, coturn):
            offer, answer, frames = asyncio.run(watch())
            log = read_log(coturn.log)
    finally:
        commands.stop()

    offered, answered = candidates(offer), candidates(answer)
    assert offered, "the viewer offers a candidate"
    assert answered, "the edge answers with a candidate"
    assert {kind for _, _, kind in offered} == {"relay"}, (
        f"the viewer offers relay candidates only: {offered}"
    )
    assert {kind for _, _, kind in answered} == {"relay"}, (
        f"the edge offers relay candidates only: {answered}"
    )
    assert frames >= 5, "video reached the viewer, relayed (no other path exists)"
    assert log.count("ALLOCATE processed, success") >= 2, "each end allocated a relay on coturn"
    assert turn.username is not None and page.username is not None
    assert f"user <{turn.username}>" in log, "the edge relayed under the view's minted username"
    assert f"user <{page.username}>" in log, "the viewer relayed under the page's minted username"
    for _, port, _ in answered:
        assert f"peer 127.0.0.1:{port}" in log, "the viewer's relay was let through to the edge's"
    for _, port, _ in offered:
        assert f"peer 127.0.0.1:{port}" in log, "the edge's relay was let through to the viewer's"
    sent = publisher.viewer_stats(VIEWER)
    assert sent is not None, "the edge counted the view"
    assert sent.packets_sent > 0, "the edge sent RTP through the relay"


async def allocate(coturn: CoturnFiles, server: IceServerSetting) -> tuple[str, int]:
    """A TURN allocation on coturn with `server`'s credentials (aioice's client, as aiortc's ICE
    gathering makes it); the relayed address, or aioice.stun.TransactionFailed."""
    transport, _ = await aioice.turn.create_turn_endpoint(
        asyncio.DatagramProtocol,
        server_addr=("127.0.0.1", coturn.port),
        username=server.username,
        password=server.credential,
    )
    try:
        relayed: tuple[str, int] = transport.get_extra_info("sockname")
        return relayed
    finally:
        transport.close()


def test_coturn_refuses_a_minted_credential_past_its_expiry(tmp_path: Path) -> None:
    """The same secret and label, minted correctly: the one whose expiry has passed gets 401 and no
    relay; the one minted now gets its relay (so the refusal is the expiry, not the set-up)."""
    turnserver = need_program("turnserver", "coturn")
    coturn = coturn_files(tmp_path / "coturn", issue_tls(tmp_path))
    ice = central_ice(coturn)
    now = datetime.now(UTC)
    label = view_label(user_id=USER_ID, viewer="expired-view")
    (expired,) = ice.servers(label=label, now=now - ice.lifetime - timedelta(minutes=1))
    (fresh,) = ice.servers(label=label, now=now)
    assert expired.username is not None
    assert int(expired.username.split(":")[0]) < now.timestamp(), "the first one has expired"

    async def both() -> tuple[aioice.stun.TransactionFailed | None, tuple[str, int]]:
        try:
            await allocate(coturn, expired)
        except aioice.stun.TransactionFailed as refused:
            return refused, await allocate(coturn, fresh)
        return None, await allocate(coturn, fresh)

    with running_coturn(turnserver, coturn):
        refused, relayed = asyncio.run(both())
        log = read_log(coturn.log)
    assert refused is not None, "coturn refused the expired credential"
    assert refused.response.error_code == 401, f"401 Unauthorized, not {refused}"
    assert f"Cannot find credentials of user <{expired.username}>" in log, "coturn's log names it"
    assert relayed[0] == "127.0.0.1", "the fresh credential got its relay"
    assert log.count("ALLOCATE processed, success") == 1, "one allocation: the fresh one's"


def test_coturn_refuses_a_credential_minted_with_another_secret(tmp_path: Path) -> None:
    """What a credential cannot be without central's secret: coturn's HMAC check, not just its clock."""
    turnserver = need_program("turnserver", "coturn")
    coturn = coturn_files(tmp_path / "coturn", issue_tls(tmp_path))
    forged = mint_credential(
        secret="another-secret-0123456789abcdef0123456789",
        label=page_label(user_id=USER_ID),
        now=datetime.now(UTC),
        lifetime=timedelta(hours=1),
    )
    server = IceServerSetting(
        urls=[f"turn:127.0.0.1:{coturn.port}"], username=forged.username, credential=forged.credential
    )
    with running_coturn(turnserver, coturn), pytest.raises(aioice.stun.TransactionFailed) as refused:
        asyncio.run(allocate(coturn, server))
    assert refused.value.response.error_code == 401, f"401 Unauthorized, not {refused.value}"
