"""Patrol sessions through the API (issue 15 item 4): opening one (for a task or a hall), who may see
and act in it, offers tied to it, the browser's viewing counts, findings asking the hall's agent for
their capture, ending it, the edge's report of what it sent, and the verdict (proof of viewing); the
patrol job ending a forgotten patrol and judging one whose edge never reported. The real agent and
browser are in test_patrol_browser.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.audit.models import AuditEntry
from central.core.config import Settings
from central.devices.models import DeviceCommand
from central.live.models import LiveView
from central.patrols.models import PatrolSession
from central.patrols.viewing import settle_patrols
from tests.central.devices.helpers import OBSERVATIONS, edge
from tests.central.live.helpers import COUNTY, PROVINCIAL, camera, offer, people
from tests.central.patrols.helpers import live_view
from tests.central.video.helpers import evidence
from tests.conftest import FakeClock, SignedIn

__all__ = ["edge", "people"]
SESSIONS = "/api/v1/patrols/sessions"


@pytest.fixture
def api(
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    registry: dict[str, int],
    edge: dict[str, dict[str, str]],
    session: Session,
) -> Iterator[TestClient]:
    """Central with no agent connected (an offer waits 1 s, then 504): views are marked answered by
    hand where a test needs one; the real relay is tested in tests/central/live."""
    camera(session, device="EDGE-P", name="CAM-1", at=clock(), windows=("W01",))
    app = create_app(settings.model_copy(update={"live_answer_timeout_seconds": 1.0}), engine=db, clock=clock)
    with TestClient(app) as client:
        yield client
    app.state.notifier.stop()


def open_patrol(api: TestClient, who: SignedIn, hall: str = PROVINCIAL) -> dict[str, Any]:
    response = api.post(SESSIONS, json={"hall": hall}, auth=who)
    assert response.status_code == 201, response.text
    return dict(response.json())


def answered_view(
    api: TestClient, session: Session, who: SignedIn, patrol: int, camera: str = "CAM-1"
) -> str:
    """A view of the patrol, asked through the API and marked answered as the agent would have."""
    assert api.post(f"{SESSIONS}/{patrol}/offer", json=offer(camera=camera), auth=who).status_code == 504
    session.expire_all()
    view = session.scalars(select(LiveView).order_by(LiveView.id.desc())).first()
    assert view is not None and view.patrol_session_id == patrol
    view.outcome = "answered"
    session.commit()
    return view.viewer


def post_report(api: TestClient, key: dict[str, str], item: dict[str, Any]) -> str:
    response = api.post(OBSERVATIONS, json={"observations": [item]}, headers=key)
    assert response.status_code == 200, response.text
    return str(response.json()["results"][0]["outcome"])


def test_who_may_open_see_and_act_in_a_patrol(
    api: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    patrol = open_patrol(api, people["prov"])
    assert patrol["state"] == "open" and patrol["hall_code"] == PROVINCIAL and patrol["task"] is None
    assert open_patrol(api, people["prov"])["id"] == patrol["id"]  # an open one is resumed, not doubled
    url = f"{SESSIONS}/{patrol['id']}"
    assert api.get(url, auth=people["prov"]).status_code == 200
    assert api.get(url, auth=people["county"]).status_code == 404  # the provincial hall is not theirs
    assert api.get(url, auth=people["clerk"]).status_code == 403  # a post user does not patrol
    assert api.post(SESSIONS, json={"hall": PROVINCIAL}, auth=people["clerk"]).status_code == 403
    assert api.post(SESSIONS, json={"hall": PROVINCIAL}, auth=people["county"]).status_code == 404
    assert api.post(SESSIONS, json={}, auth=people["prov"]).status_code == 422
    assert api.post(SESSIONS, json={"hall": PROVINCIAL, "task": 1}, auth=people["prov"]).status_code == 422
    assert api.post(SESSIONS, json={"task": 999}, auth=people["prov"]).status_code == 404
    assert api.post(SESSIONS, json={"hall": PROVINCIAL, "x": 1}, auth=people["prov"]).status_code == 422
    # another inspector of the province may read it (they supervise the hall) but not act in it
    assert api.get(url, auth=people["prov2"]).status_code == 200
    assert api.post(f"{url}/end", json={}, auth=people["prov2"]).status_code == 403
    assert api.post(f"{url}/offer", json=offer(), auth=people["prov2"]).status_code == 403
    # offers: only for the patrolled hall, only while open
    wrong = api.post(f"{url}/offer", json=offer(hall=COUNTY), auth=people["prov"])
    assert wrong.status_code == 422 and PROVINCIAL in wrong.json()["detail"]
    assert api.post(f"{url}/end", json={"note": "测试"}, auth=people["prov"]).json()["state"] == "incomplete"
    assert api.post(f"{url}/offer", json=offer(), auth=people["prov"]).status_code == 409
    assert api.post(f"{url}/end", json={}, auth=people["prov"]).status_code == 409
    actions = set(
        session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "patrol_session"))
    )
    assert {"patrol.session.start", "patrol.session.end", "patrol.session.judge"} <= actions


def test_a_patrol_the_edge_confirms_for_long_enough_counts(
    api: TestClient,
    people: dict[str, SignedIn],
    session: Session,
    edge: dict[str, dict[str, str]],
    clock: FakeClock,
) -> None:
    prov = people["prov"]
    patrol = open_patrol(api, prov)
    url = f"{SESSIONS}/{patrol['id']}"
    viewer = answered_view(api, session, prov, patrol["id"])
    counts = {"viewer": viewer, "frames_decoded": 600, "packets_received": 1200}
    assert api.post(f"{url}/viewing", json={"views": [counts]}, auth=prov).json() == {"updated": 1}
    lower = {**counts, "frames_decoded": 10}  # a reloaded page starts again at 0: the higher count stays
    assert api.post(f"{url}/viewing", json={"views": [lower]}, auth=prov).json() == {"updated": 0}
    other = {**counts, "viewer": "not-this-patrols"}
    assert api.post(f"{url}/viewing", json={"views": [other]}, auth=prov).json() == {"updated": 0}
    assert (
        api.post(f"{url}/viewing", json={"views": [{**counts, "frames_decoded": -1}]}, auth=prov).status_code
        == 422
    )
    assert api.post(f"{url}/viewing", json={"views": []}, auth=prov).status_code == 422
    ended = api.post(f"{url}/end", json={}, auth=prov).json()
    assert ended["state"] == "judging"  # the browser watched: the edge's count is awaited
    session.expire_all()
    close = session.scalars(select(DeviceCommand).where(DeviceCommand.kind == "live_close")).all()
    assert [json.loads(c.payload)["viewer"] for c in close] == [viewer]  # ending closes its views
    report = live_view(viewer, clock() - timedelta(seconds=200), seconds=150, frames=750, packets=1200)
    assert post_report(api, edge["EDGE-K"], report) == "rejected"  # another hall's agent
    assert post_report(api, edge["EDGE-P"], report) == "stored"
    assert post_report(api, edge["EDGE-P"], report) == "duplicate"
    judged = api.get(url, auth=prov).json()
    # 600 of 750 frames decoded over 150 s: 120 s proven, Sichuan's minimum
    assert judged["state"] == "complete", judged
    assert judged["watched_seconds"] == pytest.approx(120)
    assert judged["verdict"] is None
    assert judged["views"][0]["edge_frames_sent"] == 750 and judged["views"][0]["frames_decoded"] == 600


@pytest.mark.parametrize(
    ("decoded", "received", "frames", "reason"),
    [
        (0, 0, 750, "浏览器未解码任何画面"),  # the video never played
        (300, 600, 750, "不足 120 秒"),  # played for 60 s only
        (900, 1200, 750, "多于边缘端发送的 750 帧"),  # claims frames the edge never sent
    ],
)
def test_a_patrol_without_proof_of_viewing_is_stored_as_incomplete_with_the_reason(
    api: TestClient,
    people: dict[str, SignedIn],
    session: Session,
    edge: dict[str, dict[str, str]],
    clock: FakeClock,
    decoded: int,
    received: int,
    frames: int,
    reason: str,
) -> None:
    prov = people["prov"]
    patrol = open_patrol(api, prov)
    url = f"{SESSIONS}/{patrol['id']}"
    viewer = answered_view(api, session, prov, patrol["id"])
    counts = {"viewer": viewer, "frames_decoded": decoded, "packets_received": received}
    api.post(f"{url}/viewing", json={"views": [counts]}, auth=prov)
    api.post(f"{url}/end", json={"note": "网络中断"}, auth=prov)
    report = live_view(viewer, clock() - timedelta(seconds=200), seconds=150, frames=frames, packets=1500)
    post_report(api, edge["EDGE-P"], report)
    judged = api.get(url, auth=prov).json()
    assert judged["state"] == "incomplete"
    assert reason in judged["verdict"] and "结束说明：网络中断" in judged["verdict"]


def test_the_patrol_job_ends_a_forgotten_patrol_and_judges_one_the_edge_never_confirmed(
    api: TestClient, people: dict[str, SignedIn], session: Session, clock: FakeClock, settings: Settings
) -> None:
    prov = people["prov"]
    forgotten = open_patrol(api, prov)
    viewer = answered_view(api, session, prov, forgotten["id"])
    url = f"{SESSIONS}/{forgotten['id']}"
    api.post(
        f"{url}/viewing",
        json={"views": [{"viewer": viewer, "frames_decoded": 50, "packets_received": 80}]},
        auth=prov,
    )
    assert (
        settle_patrols(session, now=clock() + timedelta(hours=1), default_profile_key=settings.rule_profile)
        == 0
    )
    later = clock() + timedelta(hours=4, minutes=1)  # Sichuan's session_max_minutes is the default 240
    assert settle_patrols(session, now=later, default_profile_key=settings.rule_profile) == 1
    session.expire_all()
    patrol = session.get(PatrolSession, forgotten["id"])
    assert (
        patrol is not None and patrol.state == "judging" and patrol.end_note and "自动结束" in patrol.end_note
    )
    # the edge never reports: after edge_report_wait_minutes it is judged without
    settle_patrols(session, now=later + timedelta(minutes=11), default_profile_key=settings.rule_profile)
    session.expire_all()
    patrol = session.get(PatrolSession, forgotten["id"])
    assert patrol is not None and patrol.state == "incomplete"
    assert patrol.verdict is not None and "边缘端未报告发送计数" in patrol.verdict


def test_a_finding_asks_the_halls_agent_for_its_capture_and_shows_what_arrived(
    api: TestClient,
    people: dict[str, SignedIn],
    session: Session,
    edge: dict[str, dict[str, str]],
    clock: FakeClock,
) -> None:
    prov = people["prov"]
    patrol = open_patrol(api, prov)
    url = f"{SESSIONS}/{patrol['id']}/findings"
    body = {"window": "W01", "category": "phone", "note": "窗口人员低头玩手机"}
    made = api.post(url, json=body, auth=prov)
    assert made.status_code == 201, made.text
    finding = made.json()
    assert finding["category_label"] == "玩手机" and finding["camera"] == "CAM-1"
    assert finding["snapshot"] is None and finding["clip"] is None  # asked for, not yet arrived
    session.expire_all()
    command = session.scalars(select(DeviceCommand).where(DeviceCommand.kind == "patrol_capture")).one()
    payload = json.loads(command.payload)
    assert payload["camera"] == "CAM-1" and payload["window"] == "W01" and payload["clip_seconds"] == 10
    # the agent's snapshot arrives through its outbox, naming the capture
    snapshot = {
        **evidence(clock() - timedelta(seconds=1), reason="patrol_finding"),
        "capture": payload["capture"],
    }
    assert post_report(api, edge["EDGE-P"], snapshot) == "stored"
    shown = api.get(f"{SESSIONS}/{patrol['id']}", auth=prov).json()["findings"]
    assert len(shown) == 1 and shown[0]["snapshot"] is not None and shown[0]["clip"] is None
    # refusals: a window of another hall, an unknown category, someone else's patrol, an ended patrol
    assert api.post(url, json={**body, "window": "K01"}, auth=prov).status_code == 422
    assert api.post(url, json={**body, "category": "napping"}, auth=prov).status_code == 422
    assert api.post(url, json={**body, "note": "x" * 501}, auth=prov).status_code == 422
    assert api.post(url, json=body, auth=people["prov2"]).status_code == 403
    api.post(f"{SESSIONS}/{patrol['id']}/end", json={}, auth=prov)
    assert api.post(url, json=body, auth=prov).status_code == 409
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "patrol.finding.record")).one()
    assert audit.target_id == str(finding["id"])
