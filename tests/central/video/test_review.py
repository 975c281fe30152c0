"""An inspector reviews camera-reported absences (离岗, SC-6.1): confirming raises one yellow signal
(SZ-11's "other minor violations", origin video) at the window's department that shows in the ledger
(SC-7); dismissing needs a reason; both audited; outside one's jurisdiction an absence is not found."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.audit.chain import verify
from central.audit.models import AuditEntry
from central.signals.models import Signal
from central.video.models import AbsenceEvent
from tests.central.video.helpers import World, absence, edge, shanghai, upload, world
from tests.conftest import FakeClock

__all__ = ["edge", "world"]

URL = "/api/v1/video/absences"


def reported(
    client: TestClient, world: World, clock: FakeClock, *, window: str = "W01", device: str = "EDGE-P"
) -> int:
    start, end = shanghai(clock, 9, 20), shanghai(clock, 9, 45)
    upload(client, world.headers[device], absence(start, window=window), absence(start, end, window=window))
    listed = client.get(URL, params={"window": window}, auth=world.people["inspector"])
    assert listed.status_code == 200, listed.text
    return int(listed.json()["items"][0]["id"])


def test_confirming_raises_a_yellow_video_signal_that_enters_the_ledger(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    absence_id = reported(client, world, clock)
    r = client.post(
        f"{URL}/{absence_id}/confirm", json={"note": "回放确认：擅自离开"}, auth=world.people["inspector"]
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["status_label"]) == ("confirmed", "已确认")
    assert body["reviewed_by"] == "user:inspector" and body["review_note"] == "回放确认：擅自离开"
    signal = session.get(Signal, body["signal_id"])
    assert signal is not None
    assert (signal.color, signal.origin, signal.reason_code, signal.status) == (
        "yellow",
        "video",
        "staff_absent",
        "issued",
    )
    assert signal.case_id is None and signal.dedupe_key == f"absence:{absence_id}"
    assert "1号窗口（W01）" in (signal.reason or "") and "离岗约 25 分钟" in (signal.reason or "")
    assert signal.correct_by == date(2026, 11, 30)  # one working day after Friday 27 November (SZ-11)
    ledger = client.get("/api/v1/ledger", params={"origin": "video"}, auth=world.people["inspector"])
    assert ledger.status_code == 200, ledger.text
    rows = ledger.json()["items"]
    assert [(row["id"], row["origin_label"], row["reason_label"], row["color_label"]) for row in rows] == [
        (signal.id, "视频监察", "工作时间擅离岗位", "黄色纠错")
    ]
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"video.absence.confirm", "signal.raise"} <= actions
    assert verify(session).ok
    again = client.post(f"{URL}/{absence_id}/confirm", json={}, auth=world.people["inspector"])
    assert again.status_code == 409
    assert len(session.scalars(select(Signal)).all()) == 1


def test_dismissing_needs_a_reason_and_raises_nothing(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    absence_id = reported(client, world, clock)
    missing = client.post(f"{URL}/{absence_id}/dismiss", json={"note": "  "}, auth=world.people["inspector"])
    assert missing.status_code == 422
    assert missing.json()["detail"] == "dismissing an absence needs a reason (note)"
    r = client.post(
        f"{URL}/{absence_id}/dismiss", json={"note": "经批准外出取件"}, auth=world.people["inspector"]
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["signal_id"], r.json()["review_note"]) == (
        "dismissed",
        None,
        "经批准外出取件",
    )
    assert session.scalars(select(Signal)).all() == []
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "video.absence.dismiss")).one()
    assert entry.target_id == str(absence_id) and entry.actor == "user:inspector"


def test_another_halls_absence_is_not_found_and_post_users_cannot_review(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    absence_id = reported(client, world, clock)
    for path in ("", "/confirm", "/dismiss"):
        method = client.get if not path else client.post
        kwargs = {} if not path else {"json": {"note": "x"}}
        r = method(f"{URL}/{absence_id}{path}", auth=world.people["county"], **kwargs)  # type: ignore[operator]
        assert r.status_code == 404, (path, r.text)
    assert client.get(URL, auth=world.people["county"]).json()["total"] == 0
    assert client.get(f"{URL}/{absence_id}", auth=world.people["clerk"]).status_code == 200  # its department
    refused = client.post(f"{URL}/{absence_id}/confirm", json={}, auth=world.people["clerk"])
    assert refused.status_code == 403
    assert client.get(URL, auth=world.people["admin"]).status_code == 403  # no part in supervision
    session.expire_all()
    assert session.scalars(select(AbsenceEvent.status)).one() == "pending"
    county_absence = reported(client, world, clock, window="K01", device="EDGE-K")
    assert client.get(f"{URL}/{county_absence}", auth=world.people["county"]).status_code == 200


def test_absences_filter_by_window_status_and_day(client: TestClient, world: World, clock: FakeClock) -> None:
    first = reported(client, world, clock)
    upload(client, world.headers["EDGE-P"], absence(shanghai(clock, 9, 30), window="W02"))
    client.post(f"{URL}/{first}/dismiss", json={"note": "误判"}, auth=world.people["inspector"])
    who = world.people["inspector"]
    assert client.get(URL, params={"status": "pending"}, auth=who).json()["items"][0]["window_code"] == "W02"
    assert client.get(URL, params={"status": "dismissed"}, auth=who).json()["total"] == 1
    today = clock().date().isoformat()
    assert client.get(URL, params={"date_from": today, "date_to": today}, auth=who).json()["total"] == 2
    assert client.get(URL, params={"date_from": "2026-11-28"}, auth=who).json()["total"] == 0
    assert client.get(URL, params={"hall": "510104-ZWFW"}, auth=who).json()["total"] == 0
    assert client.get(URL, params={"status": "maybe"}, auth=who).status_code == 422
