"""The signal lifecycle end to end, moving the clock through working days (SZ-10..13, SC-9, QTH-2).

Cases are pushed through the event API; the scheduler runs each day as `hallwatch serve` would;
people act through the API with their own roles. Sichuan 2011 rules: yellow at 3 working days left,
one working day to correct a yellow, 15 working days to report an investigation.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.calendar.service import load_calendar
from central.signals.scheduler import run_signals
from tests.central.cases.helpers import ev
from tests.conftest import ROOT_PASSWORD, SignedIn, make_user


def _run(session: Session, clock) -> None:
    session.expire_all()
    run_signals(
        session, now=clock(), calendar=load_calendar(session), default_profile="sichuan-2011", instance="test"
    )
    session.commit()


def _signal_of(client: TestClient, case_no: str) -> dict:
    page = client.get("/api/v1/signals", params={"case_no": case_no}).json()
    assert page["total"] == 1, page
    return client.get(f"/api/v1/signals/{page['items'][0]['id']}").json()


def test_signals_follow_cases_through_working_days(
    client: TestClient, anon: TestClient, db: Engine, session: Session, clock, registry: dict[str, int]
) -> None:
    make_user(db, "clerk", role=Role.POST_USER, scope="department:SCJGJ", password=ROOT_PASSWORD, now=clock())
    make_user(db, "insp", role=Role.INSPECTOR, scope="region:510000", password=ROOT_PASSWORD, now=clock())
    clerk, insp = SignedIn("clerk", ROOT_PASSWORD), SignedIn("insp", ROOT_PASSWORD)
    clock.set_shanghai(2026, 11, 16, 9)  # Monday
    events = [
        ev(f"{n}-a", n, "accepted", "2026-11-16T09:00:00+08:00") for n in ("HW-LATE", "HW-DONE", "HW-FIX")
    ]
    assert client.post("/api/v1/cases/events", json=events).status_code == 200
    # Promised 10 working days: all three are due Monday 2026-11-30.

    clock.set_shanghai(2026, 11, 24)  # Tuesday: 4 working days left, still green
    _run(session, clock)
    assert client.get("/api/v1/signals").json()["total"] == 0

    clock.set_shanghai(2026, 11, 25)  # Wednesday: 3 working days left, yellow lights raise yellow signals
    _run(session, clock)
    late = _signal_of(client, "HW-LATE")
    assert (late["color"], late["origin"], late["status"], late["correct_by"]) == (
        "yellow",
        "light",
        "issued",
        "2026-11-26",
    )
    fix = _signal_of(client, "HW-FIX")
    url = f"/api/v1/signals/{fix['id']}/actions"
    assert anon.post(url, json={"action": "acknowledge"}, auth=clerk).status_code == 200
    assert (
        anon.post(url, json={"action": "correct", "note": "已加派人员，周五前办结"}, auth=clerk).status_code
        == 200
    )
    done = [ev("HW-DONE-b", "HW-DONE", "completed", "2026-11-25T09:30:00+08:00")]
    assert client.post("/api/v1/cases/events", json=done).status_code == 200

    clock.set_shanghai(2026, 11, 26)  # Thursday: the last day to correct; nothing turns red yet
    _run(session, clock)
    assert _signal_of(client, "HW-LATE")["color"] == "yellow"
    auto = _signal_of(client, "HW-DONE")
    assert (
        auto["status"] == "corrected" and auto["events"][-1]["actor"] == "system:signals"
    )  # the case was completed

    clock.set_shanghai(2026, 11, 27)  # Friday: HW-LATE was not corrected within 1 working day (SZ-11)
    _run(session, clock)
    late = _signal_of(client, "HW-LATE")
    assert (late["color"], late["initial_color"], late["status"]) == ("red", "yellow", "escalated")
    assert [e["action"] for e in late["events"]] == ["escalate"]
    assert _signal_of(client, "HW-FIX")["status"] == "corrected"  # corrected in time: stays yellow
    _run(session, clock)  # a second run on the same day changes nothing
    assert client.get("/api/v1/signals").json()["total"] == 3

    # Every yellow or red signal is investigated (SZ-13): the province passes HW-LATE down to the hall.
    opened = anon.post(
        "/api/v1/investigations",
        json={"signal_id": late["id"], "assignee_scope": "hall:510000-ZWFW"},
        auth=insp,
    )
    assert opened.status_code == 201, opened.text
    investigation = opened.json()
    assert investigation["due_date"] == "2026-12-18"  # 15 working days (SC-9)

    clock.set_shanghai(2026, 12, 1)  # Tuesday: HW-LATE is past its due date; its signal is already red
    _run(session, clock)
    assert client.get("/api/v1/signals").json()["total"] == 3  # one light signal per case, never a second
    assert (
        _signal_of(client, "HW-FIX")["color"] == "red"
    )  # the promise failed: the corrected yellow escalates
    close = {"action": "close", "note": "已核实办结", "finding": "no_fault"}
    assert anon.post(f"/api/v1/signals/{auto['id']}/actions", json=close, auth=insp).status_code == 200

    _report_late(client, anon, clock, insp, investigation["id"])


def _report_late(client: TestClient, anon: TestClient, clock, insp: SignedIn, investigation_id: int) -> None:
    investigation = {"id": investigation_id}
    clock.set_shanghai(2026, 12, 21)  # Monday after the deadline: the investigation is flagged overdue
    overdue = anon.get("/api/v1/investigations", params={"overdue": "true"}, auth=insp).json()
    assert [i["id"] for i in overdue["items"]] == [investigation["id"]]
    body = {"report": "窗口人员未按时流转，已通报批评", "finding": "fault"}
    assert (
        anon.post(f"/api/v1/investigations/{investigation['id']}/report", json=body, auth=insp).status_code
        == 200
    )
    late = _signal_of(client, "HW-LATE")
    assert (late["status"], late["finding"]) == ("closed", "fault")
    assert [e["action"] for e in late["events"]] == ["escalate", "investigate", "close"]
    ledger = client.get("/api/v1/ledger").json()
    assert ledger["total"] == 3
