"""The live view API's own decisions, before and after the hall's agent is asked: who may watch
(permission, jurisdiction, SC-18 grant), which cameras (known, online), malformed offers, an agent
that never answers (504), ending a view, the grid's camera list, and the device reply endpoint's
limits. The real agent answering is in test_live_e2e.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.audit.models import AuditEntry
from central.core.config import Settings
from central.devices.models import DeviceCommand
from central.live import service
from central.live.models import LiveView
from common.profiles.schema import RuleProfile
from tests.central.devices.helpers import edge
from tests.central.live.helpers import COUNTY, OFFER, PROVINCIAL, SDP, camera, offer, people
from tests.conftest import FakeClock, SignedIn

__all__ = ["edge", "people"]
TURN = {"urls": ["turn:turn.example.invalid:3478"], "username": "hall", "credential": "secret"}


@pytest.fixture
def api(
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    registry: dict[str, int],
    edge: dict[str, dict[str, str]],
    session: Session,
) -> Iterator[TestClient]:
    """Central with no agent connected: an offer waits 1 s for an answer that never comes."""
    quick = settings.model_copy(
        update={
            "live_answer_timeout_seconds": 1.0,
            "live_ice_servers": Settings(live_ice_servers=[TURN]).live_ice_servers,
        }
    )
    camera(session, device="EDGE-P", name="CAM-1", at=clock(), windows=("W01",))
    camera(session, device="EDGE-P", name="CAM-2", at=clock(), online=False)
    camera(session, device="EDGE-P", name="CAM-3", at=clock() - timedelta(minutes=10))  # silent since
    app = create_app(quick, engine=db, clock=clock)
    with TestClient(app) as client:
        yield client
    app.state.notifier.stop()


def commands(session: Session, kind: str) -> list[dict[str, object]]:
    session.expire_all()
    rows = session.scalars(select(DeviceCommand).where(DeviceCommand.kind == kind).order_by(DeviceCommand.id))
    return [json.loads(r.payload) for r in rows]


def test_refusals_before_the_hall_is_asked(
    api: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    r = api.post(OFFER, json=offer(), auth=people["clerk"])
    assert r.status_code == 403, r.text  # a post user does not patrol
    r = api.post(OFFER, json=offer(), auth=people["county"])
    assert r.status_code == 404, r.text  # another jurisdiction's hall answers as a missing one
    assert api.post(OFFER, json=offer(hall="NO-SUCH"), auth=people["prov"]).status_code == 404
    assert api.post(OFFER, json=offer(camera="CAM-9"), auth=people["prov"]).status_code == 404
    for offline in ("CAM-2", "CAM-3"):  # reported offline; silent for longer than SILENT_AFTER
        r = api.post(OFFER, json=offer(camera=offline), auth=people["prov"])
        assert r.status_code == 409, r.text
        assert "摄像机离线" in r.json()["detail"]
    assert commands(session, "live_offer") == []
    assert session.scalars(select(LiveView)).all() == []


@pytest.mark.parametrize(
    "body",
    [
        offer(profile="huge"),
        offer(sdp="hello"),
        offer(sdp=SDP + "a=x\r\n" * 5000),  # past 20 kB
        {**offer(), "viewer": "mine"},
        {k: v for k, v in offer().items() if k != "camera"},
        offer(hall=""),
    ],
)
def test_malformed_offers_are_refused_with_422(
    api: TestClient, people: dict[str, SignedIn], body: dict[str, str]
) -> None:
    assert api.post(OFFER, json=body, auth=people["prov"]).status_code == 422


def test_an_agent_that_never_answers_is_a_504_and_the_view_is_audited(
    api: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    r = api.post(OFFER, json=offer(profile="focus"), auth=people["prov"])
    assert r.status_code == 504, r.text
    assert "did not answer" in r.json()["detail"]
    (sent,) = commands(session, "live_offer")
    assert sent["camera"] == "CAM-1" and sent["profile"] == "focus" and sent["sdp"] == SDP
    assert sent["ice_servers"] == [TURN]  # central's settings, handed to the agent
    view = session.scalars(select(LiveView)).one()
    assert (view.viewer, view.outcome, view.camera) == (sent["viewer"], "no_answer", "CAM-1")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "live.view.open")).one()
    assert entry.target_id == sent["viewer"] and entry.actor.endswith("prov")
    assert json.loads(entry.after or "{}")["camera"] == "CAM-1"


def test_a_hall_whose_profile_asks_for_a_grant_needs_an_approved_live_view_request(
    api: TestClient, people: dict[str, SignedIn], monkeypatch: pytest.MonkeyPatch, session: Session
) -> None:
    real = service.profile_for_hall

    def strict(session: Session, *, hall_id: int, default_key: str) -> RuleProfile:
        profile = real(session, hall_id=hall_id, default_key=default_key)
        approvals = profile.approvals.model_copy(update={"live_view_needs_grant": True})
        return profile.model_copy(update={"approvals": approvals})

    monkeypatch.setattr(service, "profile_for_hall", strict)
    grid = api.get(f"/api/v1/live/halls/{PROVINCIAL}", auth=people["prov"]).json()
    assert (grid["grant_needed"], grid["granted"]) == (True, False)
    r = api.post(OFFER, json=offer(), auth=people["prov"])
    assert r.status_code == 403 and "SC-18" in r.json()["detail"], r.text
    asked = api.post(
        "/api/v1/approvals",
        json={"kind": "live_view", "target": PROVINCIAL, "payload": {}, "reason": "今日巡查"},
        auth=people["prov"],
    )
    assert asked.status_code == 201, asked.text
    r = api.post(f"/api/v1/approvals/{asked.json()['id']}/approve", auth=people["prov2"])
    assert r.status_code == 200, r.text
    assert api.get(f"/api/v1/live/halls/{PROVINCIAL}", auth=people["prov"]).json()["granted"] is True
    assert api.post(OFFER, json=offer(), auth=people["prov"]).status_code == 504  # past the grant check
    assert api.post(OFFER, json=offer(), auth=people["prov2"]).status_code == 403  # the grant is prov's


def test_the_grid_lists_the_halls_cameras_with_their_windows(
    api: TestClient, people: dict[str, SignedIn]
) -> None:
    r = api.get(f"/api/v1/live/halls/{PROVINCIAL}", auth=people["prov"])
    assert r.status_code == 200, r.text
    cameras = {c["camera"]: c for c in r.json()["cameras"]}
    assert [w["code"] for w in cameras["CAM-1"]["windows"]] == ["W01"]
    assert (cameras["CAM-1"]["online"], cameras["CAM-1"]["state_label"]) == (True, "在线")
    assert [(cameras[c]["online"], cameras[c]["state_label"]) for c in ("CAM-2", "CAM-3")] == [
        (False, "摄像机离线"),
        (False, "摄像机离线"),
    ]
    assert api.get(f"/api/v1/live/halls/{PROVINCIAL}", auth=people["county"]).status_code == 404
    assert api.get(f"/api/v1/live/halls/{COUNTY}", auth=people["county"]).json()["cameras"] == []
    assert api.get(f"/api/v1/live/halls/{PROVINCIAL}", auth=people["clerk"]).status_code == 403


def test_ending_a_view_queues_live_close_once_and_only_for_its_viewer(
    api: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    assert api.post(OFFER, json=offer(), auth=people["prov"]).status_code == 504
    viewer = session.scalars(select(LiveView.viewer)).one()
    url = f"/api/v1/live/viewers/{viewer}"
    assert api.delete(url, auth=people["county"]).status_code == 404  # not in its jurisdiction
    assert api.delete(url, auth=people["prov2"]).status_code == 403  # someone else's view
    assert api.delete(url, auth=people["clerk"]).status_code == 403
    assert api.delete("/api/v1/live/viewers/nobody", auth=people["prov"]).status_code == 404
    assert api.delete("/api/v1/live/viewers/bad%20id", auth=people["prov"]).status_code == 422
    assert api.delete(url, auth=people["prov"]).status_code == 204
    assert api.delete(url, auth=people["prov"]).status_code == 204  # already ended: nothing more queued
    assert commands(session, "live_close") == [{"viewer": viewer}]
    assert (
        session.scalars(select(AuditEntry).where(AuditEntry.action == "live.view.close")).one().target_id
        == viewer
    )


def test_a_device_reply_by_http_is_kept_to_its_hall_and_bounded(
    api: TestClient, people: dict[str, SignedIn], session: Session, edge: dict[str, dict[str, str]]
) -> None:
    assert api.post(OFFER, json=offer(), auth=people["prov"]).status_code == 504
    command_id = session.scalars(select(LiveView.command_id)).one()
    url = "/api/v1/device/replies"
    body = {"command_id": command_id, "body": {"viewer": "x"}}
    assert api.post(url, json=body, headers=edge["EDGE-K"]).status_code == 404  # another hall's agent
    assert api.post(url, json={**body, "command_id": 10**6}, headers=edge["EDGE-P"]).status_code == 404
    large = {"command_id": command_id, "body": {"sdp": "x" * 7000}}
    assert api.post(url, json=large, headers=edge["EDGE-P"]).status_code == 413
    assert api.post(url, json={**body, "extra": 1}, headers=edge["EDGE-P"]).status_code == 422
    assert api.post(url, json=body).status_code == 401
    assert api.post(url, json=body, headers=edge["EDGE-P"]).status_code == 204  # nobody waits: dropped
