"""Reviewing patrol findings (issue 15 item 5; SC-7, SC-9) through the API: who may confirm or dismiss
(the patrol's inspector, a supervisor of the window's jurisdiction; another jurisdiction reads a 404,
a post user a 403), confirming raising exactly one yellow `patrol` signal that can be passed down as
an investigation due in 15 working days, dismissing needing a reason and raising none, a confirmed
离岗 linked to the camera's absence of that moment, and every finding in the ledger with its status."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.audit.chain import verify
from central.audit.models import AuditEntry
from central.core.config import Settings
from central.ledger.export import HEADERS
from central.patrols.models import PatrolFinding
from central.patrols.review import matching_absence
from central.registry.models import Department, Device, ServiceWindow
from central.signals.models import Signal
from central.video.models import AbsenceEvent
from tests.central.devices.helpers import OBSERVATIONS, edge
from tests.central.live.helpers import COUNTY, PROVINCIAL, camera, people
from tests.central.video.helpers import evidence
from tests.conftest import FakeClock, SignedIn

__all__ = ["edge", "people"]
SESSIONS = "/api/v1/patrols/sessions"
FINDINGS = "/api/v1/patrols/findings"


@pytest.fixture
def api(
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    registry: dict[str, int],
    edge: dict[str, dict[str, str]],
    session: Session,
) -> Iterator[TestClient]:
    """Central with no agent connected; CAM-1 of EDGE-P watches W01 and W09 of the provincial hall
    (W09 belongs to no department)."""
    session.add(ServiceWindow(code="W09", name="9号综合窗口", hall_id=registry["hall"]))
    session.commit()
    camera(session, device="EDGE-P", name="CAM-1", at=clock(), windows=("W01", "W09"))
    app = create_app(settings.model_copy(update={"live_answer_timeout_seconds": 1.0}), engine=db, clock=clock)
    with TestClient(app) as client:
        yield client
    app.state.notifier.stop()


def found(
    api: TestClient, who: SignedIn, *, window: str = "W01", category: str = "phone", hall: str = PROVINCIAL
) -> dict[str, Any]:
    """A finding recorded through the patrol API (opening the patrol, or resuming the open one)."""
    patrol = api.post(SESSIONS, json={"hall": hall}, auth=who)
    assert patrol.status_code == 201, patrol.text
    body = {"window": window, "category": category, "note": "窗口人员低头玩手机"}
    made = api.post(f"{SESSIONS}/{patrol.json()['id']}/findings", json=body, auth=who)
    assert made.status_code == 201, made.text
    result = made.json()
    assert result["status"] == "pending" and result["status_label"] == "待认定"
    return dict(result)


def review(api: TestClient, who: SignedIn, finding: int, decision: str, note: str | None = None) -> Any:
    return api.post(f"{FINDINGS}/{finding}/{decision}", json={"note": note}, auth=who)


def signals(session: Session) -> list[Signal]:
    session.expire_all()
    return list(session.scalars(select(Signal).order_by(Signal.id)))


def test_who_may_review_a_finding(api: TestClient, people: dict[str, SignedIn], session: Session) -> None:
    first = found(api, people["prov"])
    second = found(api, people["prov"])
    clerk = review(api, people["clerk"], first["id"], "confirm")
    assert clerk.status_code == 403  # a post user: the department being supervised
    assert clerk.json()["message"] == "您的角色无权认定巡查发现（须为电子监察员或系统监管员）。"
    county = review(api, people["county"], first["id"], "confirm")
    assert county.status_code == 404  # another jurisdiction: exactly like a missing finding
    assert county.json()["detail"] == f"no patrol finding {first['id']}"
    assert review(api, people["prov"], 99999, "confirm").status_code == 404
    assert api.get(FINDINGS, auth=people["clerk"]).status_code == 403
    assert api.get(FINDINGS, auth=people["county"]).json()["total"] == 0
    assert signals(session) == []
    # the patrol's own inspector, and another supervisor of the province
    assert review(api, people["prov"], first["id"], "confirm").json()["status"] == "confirmed"
    by_prov2 = review(api, people["prov2"], second["id"], "dismiss", "经回放，系查询办件信息")
    assert by_prov2.status_code == 200, by_prov2.text
    assert by_prov2.json()["reviewed_by"] == "user:prov2"
    listed = api.get(FINDINGS, params={"hall": PROVINCIAL}, auth=people["prov2"]).json()
    assert [item["id"] for item in listed["items"]] == [second["id"], first["id"]]
    pending = api.get(FINDINGS, params={"status": "pending"}, auth=people["prov2"]).json()
    assert pending["total"] == 0
    assert api.get(FINDINGS, params={"status": "maybe"}, auth=people["prov2"]).status_code == 422
    assert (
        api.post(f"{FINDINGS}/{first['id']}/confirm", json={"x": 1}, auth=people["prov"]).status_code == 422
    )


def test_confirming_raises_exactly_one_patrol_signal_at_the_windows_department(
    api: TestClient,
    people: dict[str, SignedIn],
    session: Session,
    edge: dict[str, dict[str, str]],
    clock: FakeClock,
) -> None:
    finding = found(api, people["prov"])
    session.expire_all()
    stored = session.get(PatrolFinding, finding["id"])
    assert stored is not None
    snapshot = {
        **evidence(clock() - timedelta(seconds=1), reason="patrol_finding"),
        "capture": stored.capture,
    }
    assert (
        api.post(OBSERVATIONS, json={"observations": [snapshot]}, headers=edge["EDGE-P"]).status_code == 200
    )
    confirmed = review(api, people["prov"], finding["id"], "confirm", "回放确认")
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert (body["status"], body["status_label"], body["review_note"]) == ("confirmed", "已确认", "回放确认")
    assert body["absence_id"] is None and body["absence_url"] is None  # not a 离岗
    [signal] = signals(session)
    assert body["signal_id"] == signal.id
    department = session.scalar(select(Department.id).where(Department.code == "SCJGJ"))
    assert (signal.color, signal.origin, signal.reason_code, signal.status) == (
        "yellow",
        "patrol",
        "patrol_discipline",
        "issued",
    )
    assert signal.department_id == department and signal.case_id is None
    assert signal.dedupe_key == f"patrol-finding:{finding['id']}"
    assert signal.correct_by == date(2026, 11, 30)  # one working day after Friday 27 November (SZ-11)
    assert "1号窗口（W01）玩手机：窗口人员低头玩手机" in (signal.reason or "")
    assert "2026-11-27 10:00:00" in (signal.reason or "") and "认定说明：回放确认" in (signal.reason or "")
    assert f"巡查发现 #{finding['id']}（类别 玩手机）" in (signal.evidence or "")
    assert f"截图 #{body['snapshot']}" in (signal.evidence or "")
    # confirming again answers the same finding and signal; nothing is raised or recorded twice
    again = review(api, people["prov2"], finding["id"], "confirm")
    assert again.status_code == 200 and again.json()["signal_id"] == signal.id
    assert len(signals(session)) == 1
    assert review(api, people["prov"], finding["id"], "dismiss", "误记").status_code == 409
    actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("patrol.finding.confirm") == 1 and actions.count("signal.raise") == 1
    assert verify(session).ok
    # a finding of 服务态度 raises the attitude reason
    attitude = found(api, people["prov"], category="attitude")
    review(api, people["prov"], attitude["id"], "confirm")
    assert [s.reason_code for s in signals(session)] == ["patrol_discipline", "patrol_attitude"]


def test_dismissing_needs_a_reason_and_raises_nothing(
    api: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    finding = found(api, people["prov"])
    for note in (None, "   "):
        missing = review(api, people["prov"], finding["id"], "dismiss", note)
        assert missing.status_code == 422
        assert missing.json() == {
            "detail": "dismissing a finding needs a reason (note)",
            "message": "不予认定须填写理由。",
        }
    assert review(api, people["prov"], finding["id"], "dismiss", "x" * 501).status_code == 422
    dismissed = review(api, people["prov"], finding["id"], "dismiss", "  看错窗口  ")
    assert dismissed.status_code == 200, dismissed.text
    assert (dismissed.json()["status_label"], dismissed.json()["review_note"]) == ("不予认定", "看错窗口")
    assert signals(session) == []
    again = review(api, people["prov"], finding["id"], "confirm")
    assert again.status_code == 409 and "不能再次认定" in again.json()["message"]
    # never deleted: still listed, with its status
    listed = api.get(FINDINGS, params={"status": "dismissed"}, auth=people["prov"]).json()
    assert [item["id"] for item in listed["items"]] == [finding["id"]]
    assert session.scalar(select(func.count()).select_from(PatrolFinding)) == 1
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "patrol.finding.dismiss")).one()
    assert audit.target_id == str(finding["id"])


def test_a_window_without_a_department_cannot_be_confirmed(
    api: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    finding = found(api, people["prov"], window="W09")
    refused = review(api, people["prov"], finding["id"], "confirm")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "window W09 belongs to no department: a signal needs one"
    assert "未关联部门" in refused.json()["message"]
    assert signals(session) == []
    session.expire_all()
    stored = session.get(PatrolFinding, finding["id"])
    assert stored is not None and stored.status == "pending"
    # it can still be dismissed (e.g. once the window's staff explained it)
    assert review(api, people["prov"], finding["id"], "dismiss", "综合窗口，另行处理").status_code == 200


def test_a_confirmed_findings_signal_is_investigated_within_15_working_days(
    api: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    finding = found(api, people["prov"])
    signal_id = review(api, people["prov"], finding["id"], "confirm").json()["signal_id"]
    opened = api.post(
        "/api/v1/investigations",
        json={"signal_id": signal_id, "assignee_scope": "department:SCJGJ"},
        auth=people["prov"],
    )
    assert opened.status_code == 201, opened.text
    # SC-9: 15 working days after Friday 27 November 2026 (weekends off): Friday 18 December
    assert opened.json()["due_date"] == "2026-12-18"
    assert signals(session)[0].status == "investigating"
    assert api.get(f"/api/v1/signals/{signal_id}", auth=people["prov"]).json()["status"] == "investigating"


def _absence(
    session: Session, *, window: str, start: datetime, end: datetime | None, status: str = "pending"
) -> int:
    window_row = session.scalar(select(ServiceWindow).where(ServiceWindow.code == window))
    device = session.scalar(select(Device.id).where(Device.code == "EDGE-P"))
    assert window_row is not None and device is not None
    absence = AbsenceEvent(
        hall_id=window_row.hall_id,
        window_id=window_row.id,
        department_id=window_row.department_id,
        device_id=device,
        camera="CAM-1",
        started_at=start,
        ended_at=end,
        status=status,
        received_at=start,
        updated_at=start,
    )
    session.add(absence)
    session.commit()
    return absence.id


def test_a_confirmed_absent_finding_links_to_the_cameras_absence_of_that_moment(
    api: TestClient, people: dict[str, SignedIn], session: Session, clock: FakeClock
) -> None:
    now = clock()  # the finding's moment: 10:00 Shanghai
    _absence(session, window="W01", start=now - timedelta(minutes=40), end=now - timedelta(minutes=30))
    covering = _absence(session, window="W01", start=now - timedelta(minutes=12), end=None)
    _absence(session, window="W09", start=now - timedelta(minutes=5), end=None)  # another window
    finding = found(api, people["prov"], category="absent")
    confirmed = review(api, people["prov"], finding["id"], "confirm").json()
    assert confirmed["absence_id"] == covering
    assert confirmed["absence_url"] == f"/console/video/halls/{PROVINCIAL}?day=2026-11-27#absence-{covering}"
    [signal] = signals(session)
    assert f"摄像机离岗记录 #{covering}" in (signal.evidence or "")
    shown = api.get(f"{SESSIONS}/{finding['patrol']}", auth=people["prov"]).json()["findings"]
    assert shown[0]["absence_id"] == covering


def test_an_absent_finding_with_no_absence_near_its_moment_links_to_none(
    api: TestClient, people: dict[str, SignedIn], session: Session, clock: FakeClock
) -> None:
    now = clock()
    _absence(session, window="W01", start=now - timedelta(minutes=40), end=now - timedelta(minutes=10))
    _absence(session, window="W01", start=now + timedelta(minutes=7), end=None)
    finding = found(api, people["prov"], category="absent")
    confirmed = review(api, people["prov"], finding["id"], "confirm").json()
    assert confirmed["status"] == "confirmed" and confirmed["absence_id"] is None


def test_the_closest_absence_within_a_few_minutes_is_the_findings_record(
    api: TestClient, people: dict[str, SignedIn], session: Session, clock: FakeClock
) -> None:
    """The rule of `matching_absence`: containing first, else the nearest within 5 minutes."""
    now = clock()
    finding_id = found(api, people["prov"], category="absent")["id"]
    finding = session.get(PatrolFinding, finding_id)
    assert finding is not None
    ended_3_min_ago = _absence(
        session, window="W01", start=now - timedelta(minutes=20), end=now - timedelta(minutes=3)
    )
    assert matching_absence(session, finding=finding) == session.get(AbsenceEvent, ended_3_min_ago)
    starts_in_2 = _absence(session, window="W01", start=now + timedelta(minutes=2), end=None)
    assert matching_absence(session, finding=finding) == session.get(AbsenceEvent, starts_in_2)
    covering = _absence(
        session, window="W01", start=now - timedelta(minutes=2), end=now + timedelta(minutes=1)
    )
    assert matching_absence(session, finding=finding) == session.get(AbsenceEvent, covering)
    # an absence left open on an earlier day covers nothing today
    session.delete(session.get(AbsenceEvent, covering))
    session.delete(session.get(AbsenceEvent, starts_in_2))
    session.delete(session.get(AbsenceEvent, ended_3_min_ago))
    session.commit()
    _absence(session, window="W01", start=now - timedelta(days=1), end=None)
    assert matching_absence(session, finding=finding) is None


def _ledger(api: TestClient, who: SignedIn, **params: str) -> list[dict[str, Any]]:
    response = api.get("/api/v1/ledger", params=params, auth=who)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_the_ledger_lists_every_finding_with_its_status_in_its_jurisdiction(
    api: TestClient, people: dict[str, SignedIn], session: Session
) -> None:
    confirmed = found(api, people["prov"], category="absent")
    dismissed = found(api, people["prov"])
    pending = found(api, people["prov"], window="W09", category="sleeping")
    review(api, people["prov"], confirmed["id"], "confirm")
    review(api, people["prov"], dismissed["id"], "dismiss", "误记")
    [signal] = signals(session)
    rows = [r for r in _ledger(api, people["prov"]) if r["kind"] == "finding"]
    assert [(r["id"], r["status"], r["status_label"]) for r in rows] == [
        (pending["id"], "pending", "待认定"),
        (dismissed["id"], "dismissed", "不予认定"),
        (confirmed["id"], "confirmed", "已确认"),
    ]
    first = rows[2]
    assert first["kind_label"] == "视频巡查发现" and first["reason_label"] == "视频巡查发现：离岗"
    assert (first["category"], first["category_label"], first["origin_label"]) == (
        "absent",
        "离岗",
        "视频巡查",
    )
    assert (first["hall_code"], first["department_code"], first["window_code"]) == (
        PROVINCIAL,
        "SCJGJ",
        "W01",
    )
    assert first["inspector"] == "prov" and first["signal_id"] == signal.id
    assert first["url"] == f"/console/patrols/sessions/{confirmed['patrol']}"
    assert (first["last_action_label"], rows[0]["last_action_label"]) == ("确认", "记录")
    assert rows[0]["department_code"] is None and rows[0]["window_code"] == "W09"
    # the signal the confirmation raised is an entry of its own
    signal_rows = _ledger(api, people["prov"], origin="patrol")
    assert {(r["kind"], r["id"]) for r in signal_rows} == {("signal", signal.id)} | {
        ("finding", r["id"]) for r in rows
    }
    # filters: signal-only ones leave findings out; hall, department and dates apply
    assert [r["kind"] for r in _ledger(api, people["prov"], color="yellow")] == ["signal"]
    assert _ledger(api, people["prov"], origin="video") == []
    by_department = _ledger(api, people["prov"], department="SCJGJ")
    assert {r["id"] for r in by_department if r["kind"] == "finding"} == {confirmed["id"], dismissed["id"]}
    assert _ledger(api, people["prov"], hall=COUNTY) == []
    assert len(_ledger(api, people["prov"], issued_from="2026-11-27", issued_to="2026-11-27")) == 4
    assert _ledger(api, people["prov"], issued_from="2026-11-28") == []
    # jurisdiction: the county sees none; the department's post user its own windows' only
    assert _ledger(api, people["county"]) == []
    clerk = _ledger(api, people["clerk"])
    assert {(r["kind"], r["id"]) for r in clerk} == {
        ("signal", signal.id),
        ("finding", confirmed["id"]),
        ("finding", dismissed["id"]),
    }
    # the export carries them with their window, inspector and patrol
    exported = api.get(
        "/api/v1/ledger/export", params={"format": "csv", "origin": "patrol"}, auth=people["prov"]
    )
    assert exported.status_code == 200, exported.text
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0] == HEADERS
    by_id = {
        (row["类别"], row["编号"]): row for row in (dict(zip(HEADERS, r, strict=True)) for r in table[1:])
    }
    entry = by_id[("视频巡查发现", str(confirmed["id"]))]
    assert (entry["状态"], entry["窗口"], entry["监察员"]) == ("已确认", "1号窗口（W01）", "prov")
    assert (entry["巡查编号"], entry["所发信号编号"]) == (str(confirmed["patrol"]), str(signal.id))
