"""An undecided complaint past its 5 working days (SZ-14) raises one yellow signal, counted from its
receipt across a holiday (National Day 2026: received 30 September, last day 13 October); a second
pass adds none; one decided in time raises none; one about a whole hall (no department) is skipped
but stays flagged. Once decided after all, the next pass corrects the yellow (too late past its
last day: it turns red). Every complaint is in the ledger, whatever became of it. Both databases."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.app import SIGNAL_SOURCES
from central.audit.models import AuditEntry
from central.calendar.service import load_calendar
from central.complaints.jobs import COMPLAINT_OVERDUE, COMPLAINT_SIGNAL_SOURCES, dedupe_key
from central.complaints.models import Complaint
from central.core.db import make_session_factory
from central.signals.models import Signal
from central.signals.scheduler import RunSummary, run_signals
from central.signals.transitions import SIGNALS_ACTOR
from tests.central.complaints.helpers import STAFF, make_users, send, signed_in
from tests.conftest import FakeClock


def run(db: Engine, clock: FakeClock) -> RunSummary:
    with make_session_factory(db)() as s:
        return run_signals(
            s,
            now=clock(),
            calendar=load_calendar(s),
            default_profile="sichuan-2011",
            instance="test",
            sources=COMPLAINT_SIGNAL_SOURCES,
        )


def complaint_signals(session: Session) -> list[Signal]:
    session.expire_all()
    return list(session.scalars(select(Signal).where(Signal.origin == "complaint").order_by(Signal.id)))


@pytest.fixture
def three(
    anon: TestClient, db: Engine, registry: dict[str, int], clock: FakeClock, session: Session
) -> dict[str, int]:
    """Received on 30 September: one about a clerk, one about the whole hall, one decided in time."""
    clock.set_shanghai(2026, 9, 30, 16)
    make_users(db, clock())
    numbers = {
        "clerk": send(anon).json()["number"],
        "hall": send(anon, about="hall", staff=None).json()["number"],
        "decided": send(anon, about="window", window="W01", staff=None).json()["number"],
    }
    ids = {
        name: session.scalars(select(Complaint.id).where(Complaint.number == n)).one()
        for name, n in numbers.items()
    }
    clock.set_shanghai(2026, 10, 13, 17)  # the last day to decide
    decided = anon.post(
        f"{STAFF}/{ids['decided']}/decision", headers=signed_in(anon, "inspector"), json={"accept": True}
    )
    assert decided.status_code == 200
    return ids


def test_the_deadline_runs_over_national_day_then_one_signal_is_raised_once(
    anon: TestClient, db: Engine, session: Session, clock: FakeClock, three: dict[str, int]
) -> None:
    assert {c.decide_by for c in session.scalars(select(Complaint))} == {date(2026, 10, 13)}
    assert run(db, clock).sourced[COMPLAINT_OVERDUE] == 0  # the last day itself is still in time
    assert complaint_signals(session) == []

    clock.set_shanghai(2026, 10, 14, 9)
    assert run(db, clock).sourced[COMPLAINT_OVERDUE] == 1
    (signal,) = complaint_signals(session)
    assert (signal.color, signal.reason_code, signal.dedupe_key) == (
        "yellow",
        "complaint_overdue",
        dedupe_key(three["clerk"]),
    )
    assert signal.issued_on == date(2026, 10, 14) and "2026-10-13" in (signal.reason or "")
    assert signal.correct_by == date(2026, 10, 15)  # Sichuan: a yellow is corrected within 1 working day
    assert run(db, clock).sourced[COMPLAINT_OVERDUE] == 0  # again: nothing new
    assert len(complaint_signals(session)) == 1

    # The hall-wide one raised nothing (signals need a department) but is flagged on its page.
    page = anon.get(STAFF, params={"overdue": True}, headers=signed_in(anon, "inspector")).json()
    assert sorted(item["id"] for item in page["items"]) == sorted([three["clerk"], three["hall"]])


def test_serve_and_the_cli_run_the_complaint_source() -> None:
    assert SIGNAL_SOURCES[COMPLAINT_OVERDUE] is COMPLAINT_SIGNAL_SOURCES[COMPLAINT_OVERDUE]


def test_every_complaint_is_in_the_ledger(anon: TestClient, clock: FakeClock, three: dict[str, int]) -> None:
    clock.set_shanghai(2026, 10, 14, 9)
    inspector = signed_in(anon, "inspector")
    ledger = anon.get("/api/v1/ledger", params={"origin": "complaint"}, headers=inspector)
    assert ledger.status_code == 200, ledger.text
    rows = {row["id"]: row for row in ledger.json()["items"] if row["kind"] == "complaint"}
    assert set(rows) == set(three.values())
    clerk = rows[three["clerk"]]
    assert clerk["kind_label"] == "群众投诉" and clerk["status_label"] == "待受理"
    assert (
        clerk["correct_by"] == "2026-10-13"
        and clerk["department_code"] == "SCJGJ"
        and clerk["window_code"] == "W01"
    )
    assert clerk["url"] == f"/console/complaints/{three['clerk']}" and "张三明" not in str(ledger.json())
    assert rows[three["decided"]]["last_action_label"] == "受理"
    # A clerk of the department sees its own complaint, not the hall-wide one.
    clerk_view = anon.get("/api/v1/ledger", headers=signed_in(anon, "clerk")).json()
    assert {r["id"] for r in clerk_view["items"] if r["kind"] == "complaint"} == {
        three["clerk"],
        three["decided"],
    }
    # Signal-only filters leave complaints out.
    coloured = anon.get("/api/v1/ledger", params={"color": "yellow"}, headers=inspector).json()
    assert all(r["kind"] != "complaint" for r in coloured["items"])


def _decide(anon: TestClient, complaint_id: int, **body: object) -> None:
    answer = anon.post(f"{STAFF}/{complaint_id}/decision", headers=signed_in(anon, "inspector"), json=body)
    assert answer.status_code == 200, answer.text


def _audited_run(session: Session, run_id: int) -> dict[str, object]:
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "signals.run", AuditEntry.target_id == str(run_id))
    ).one()
    return dict(json.loads(entry.after or "{}"))


def test_a_late_decision_corrects_the_overdue_signal_on_the_next_pass(
    anon: TestClient, db: Engine, session: Session, clock: FakeClock, three: dict[str, int]
) -> None:
    """Overdue → yellow; the inspector refuses it with reasons the same day; the next pass corrects
    the yellow with a step saying why (audited in the run's counts, shown in the ledger), and no
    pass raises it again. The complaint decided in time never had one."""
    clock.set_shanghai(2026, 10, 14, 9)
    run(db, clock)
    (signal,) = complaint_signals(session)
    clock.set_shanghai(2026, 10, 14, 15)
    _decide(anon, three["clerk"], accept=False, reasons="投诉所述事项不属于本中心受理范围")
    assert complaint_signals(session)[0].status == "issued"  # nothing moves until the pass

    clock.set_shanghai(2026, 10, 14, 16)
    summary = run(db, clock)
    assert (summary.corrected, summary.ended[COMPLAINT_OVERDUE], summary.issued) == (1, 1, 0)
    (signal,) = complaint_signals(session)
    assert (signal.status, signal.color, signal.closed_at) == ("corrected", "yellow", None)
    (step,) = signal.events
    number = session.scalars(select(Complaint.number).where(Complaint.id == three["clerk"])).one()
    assert (step.action, step.from_status, step.to_status, step.actor) == (
        "correct",
        "issued",
        "corrected",
        SIGNALS_ACTOR.label,
    )
    assert step.note == f"投诉 {number} 已于 2026-10-14 作出不予受理决定"
    audited = _audited_run(session, summary.run_id)
    assert audited["corrected"] == 1 and audited[f"{COMPLAINT_OVERDUE}_corrected"] == 1

    inspector = signed_in(anon, "inspector")
    ledger = anon.get("/api/v1/ledger", params={"origin": "complaint"}, headers=inspector).json()
    (row,) = [r for r in ledger["items"] if r["kind"] == "signal"]
    assert (row["id"], row["status_label"], row["last_action_label"]) == (signal.id, "已纠正", "报告纠正")

    for day in (15, 16, 19):  # later passes: not raised again, not moved again
        clock.set_shanghai(2026, 10, day, 9)
        again = run(db, clock)
        assert (again.issued, again.corrected, again.escalated) == (0, 0, 0)
    (signal,) = complaint_signals(session)
    assert signal.status == "corrected" and len(signal.events) == 1
    assert signal.dedupe_key == dedupe_key(three["clerk"])  # the one decided in time: never a signal


def test_an_acknowledged_overdue_signal_is_corrected_by_an_acceptance(
    anon: TestClient, db: Engine, session: Session, clock: FakeClock, three: dict[str, int]
) -> None:
    clock.set_shanghai(2026, 10, 14, 9)
    run(db, clock)
    (signal,) = complaint_signals(session)
    acknowledged = anon.post(
        f"/api/v1/signals/{signal.id}/actions",
        headers=signed_in(anon, "clerk"),
        json={"action": "acknowledge", "note": "已签收，转中心处理"},
    )
    assert acknowledged.status_code == 200, acknowledged.text
    clock.set_shanghai(2026, 10, 15, 11)  # the yellow's last day to be corrected
    _decide(anon, three["clerk"], accept=True)
    assert run(db, clock).ended[COMPLAINT_OVERDUE] == 1
    (signal,) = complaint_signals(session)
    assert signal.status == "corrected"
    assert signal.events[-1].from_status == "acknowledged" and "作出受理决定" in (
        signal.events[-1].note or ""
    )


def test_a_decision_after_the_yellows_last_day_is_too_late_and_it_turns_red(
    anon: TestClient, db: Engine, session: Session, clock: FakeClock, three: dict[str, int]
) -> None:
    """SZ-11: the yellow of 14 October is to be corrected by the 15th; a decision on the 16th with
    no pass in between does not correct it: the pass turns it red, for its investigation."""
    clock.set_shanghai(2026, 10, 14, 9)
    run(db, clock)
    clock.set_shanghai(2026, 10, 16, 9)
    _decide(anon, three["clerk"], accept=True)
    summary = run(db, clock)
    assert (summary.ended[COMPLAINT_OVERDUE], summary.corrected, summary.escalated) == (0, 0, 1)
    (signal,) = complaint_signals(session)
    assert (signal.status, signal.color) == ("escalated", "red")
    clock.set_shanghai(2026, 10, 19, 9)
    assert run(db, clock).corrected == 0 and complaint_signals(session)[0].status == "escalated"
