"""The signal scheduler (SZ-10..12): light signals, green warnings with catch-up, escalation after one
working day, auto-correction, two instances at once, the run audited; the background loop and CLI.

Item SCJGJ-XK-001 promises 10 working days; under sichuan-2011 a case is yellow when 3 or fewer
working days remain and red past its promised due date. The clock starts on Friday 2026-11-27.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.audit.chain import verify
from central.audit.models import AuditEntry
from central.calendar.service import load_calendar
from central.cases.models import Case
from central.core.config import Settings
from central.core.db import make_session_factory
from central.registry.models import Region
from central.signals.models import Signal, SignalRun
from central.signals.scheduler import RunSummary, run_signals
from tests.central.cases.helpers import ev
from tests.conftest import FakeClock, add_county_item

EVENTS = "/api/v1/cases/events"
COUNTY = "510104-ZWFW"


def push(client: TestClient, *events: dict) -> None:
    r = client.post(EVENTS, json=list(events))
    assert r.status_code == 200, r.text


def accepted(case_no: str, day: str, **extra: str) -> dict:
    return ev(f"{case_no}-acc", case_no, "accepted", f"{day}T09:00:00+08:00", **extra)


def run(db: Engine, clock: FakeClock, instance: str = "test") -> RunSummary:
    with make_session_factory(db)() as s:
        return run_signals(
            s, now=clock(), calendar=load_calendar(s), default_profile="sichuan-2011", instance=instance
        )


def signals_of(session: Session, case_no: str) -> list[Signal]:
    session.expire_all()
    query = select(Signal).join(Case, Case.id == Signal.case_id).where(Case.case_no == case_no)
    return list(session.scalars(query.order_by(Signal.id)))


def only(session: Session, case_no: str) -> Signal:
    found = signals_of(session, case_no)
    assert len(found) == 1, [(s.color, s.dedupe_key) for s in found]
    return found[0]


def total(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Signal.id))) or 0


@pytest.fixture
def lights(client: TestClient, registry: dict[str, int]) -> None:
    """As of Friday 2026-11-27: Y1 due Wed 12-02 (yellow), R1 due 11-16 (red), G1 due 12-09 (green)."""
    push(client, accepted("Y1", "2026-11-18"), accepted("R1", "2026-11-02"), accepted("G1", "2026-11-25"))


def test_yellow_and_red_cases_get_signals_of_their_colour_once(
    lights: None, db: Engine, session: Session, clock: FakeClock
) -> None:
    first = run(db, clock)
    assert (first.light_yellow, first.light_red, first.green, first.escalated) == (1, 1, 0, 0)
    yellow, red = only(session, "Y1"), only(session, "R1")
    assert signals_of(session, "G1") == []
    assert (yellow.color, yellow.initial_color, yellow.origin, yellow.reason_code) == (
        "yellow",
        "yellow",
        "light",
        "light_yellow",
    )
    assert yellow.status == "issued" and yellow.issued_by == "system:signals"
    assert yellow.issued_on == date(2026, 11, 27) and yellow.issued_at == clock()
    assert yellow.correct_by == date(2026, 11, 30)  # one working day after Friday: Monday (SZ-11)
    assert yellow.dedupe_key == f"light:{yellow.case_id}" and yellow.department_id and yellow.hall_id
    assert (red.color, red.reason_code, red.correct_by, red.status) == ("red", "light_red", None, "issued")

    clock.advance(minutes=5)
    again = run(db, clock)
    assert again.issued == 0 and total(session) == 2


def test_the_run_is_audited_once_and_the_chain_verifies(
    lights: None, db: Engine, session: Session, clock: FakeClock
) -> None:
    summary = run(db, clock)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "signals.run")).all()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor == "system:signals" and entry.target_type == "signal_run"
    assert entry.target_id == str(summary.run_id)
    assert '"light_yellow":1' in (entry.after or "") and '"as_of":"2026-11-27"' in (entry.after or "")
    stored = session.get(SignalRun, summary.run_id)
    assert stored is not None and (stored.as_of, stored.issued, stored.instance) == (
        date(2026, 11, 27),
        2,
        "test",
    )
    assert verify(session).ok


def _manual_yellow(session: Session, case_no: str, clock: FakeClock) -> int:
    """A yellow an inspector raised on Friday (SZ-11), due for correction on Monday (the service's row)."""
    case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
    signal = Signal(
        color="yellow",
        initial_color="yellow",
        origin="manual",
        reason_code="corrections_not_told_at_once",
        case_id=case.id,
        hall_id=case.hall_id,
        department_id=case.department_id,
        status="acknowledged",
        issued_at=clock(),
        issued_on=date(2026, 11, 27),
        issued_by="user:inspector",
        correct_by=date(2026, 11, 30),
        updated_at=clock(),
    )
    session.add(signal)
    session.commit()
    return signal.id


def test_a_yellow_not_corrected_within_one_working_day_turns_red(
    lights: None, db: Engine, session: Session, clock: FakeClock
) -> None:
    run(db, clock)  # Friday: issued, to be corrected by Monday
    manual = _manual_yellow(session, "G1", clock)
    for day in (28, 29, 30):  # the weekend does not count, and Monday is still in time
        clock.set_shanghai(2026, 11, day)
        assert run(db, clock).escalated == 0
        assert only(session, "Y1").color == "yellow"
    clock.set_shanghai(2026, 12, 1)  # Tuesday: Monday passed without a correction
    assert run(db, clock).escalated == 2  # the light yellow and the inspector's
    raised = session.get(Signal, manual)
    assert raised is not None and (raised.color, raised.status) == ("red", "escalated")
    assert [(e.from_status, e.actor) for e in raised.events] == [("acknowledged", "system:signals")]
    signal = only(session, "Y1")
    assert (signal.color, signal.initial_color, signal.status) == ("red", "yellow", "escalated")
    assert signal.escalated_at == clock()
    assert [(e.action, e.from_status, e.to_status, e.actor, e.note) for e in signal.events] == [
        ("escalate", "issued", "escalated", "system:signals", "未在1个工作日内纠正，自动转为红色")
    ]
    clock.advance(hours=1)
    assert run(db, clock).escalated == 0 and len(only(session, "Y1").events) == 1


def test_a_corrected_yellow_still_turns_red_when_its_case_runs_overdue(
    client: TestClient, registry: dict[str, int], db: Engine, session: Session, clock: FakeClock
) -> None:
    push(client, accepted("Y2", "2026-11-17"))  # due Tuesday 12-01
    run(db, clock)
    signal = only(session, "Y2")
    signal.status = "corrected"  # the department reported its correction (the service's job)
    session.commit()
    clock.set_shanghai(2026, 12, 1)
    assert run(db, clock).escalated == 0  # due today: still yellow
    clock.set_shanghai(2026, 12, 2)
    assert run(db, clock).escalated == 1
    signal = only(session, "Y2")
    assert (signal.color, signal.status) == ("red", "escalated")
    assert [(e.from_status, e.note) for e in signal.events] == [("corrected", "办件已超期，自动转为红色")]


def test_a_case_completed_while_yellow_corrects_its_signal(
    lights: None, client: TestClient, db: Engine, session: Session, clock: FakeClock
) -> None:
    run(db, clock)
    clock.set_shanghai(2026, 11, 30, 15)
    push(client, ev("Y1-done", "Y1", "completed", "2026-11-30T14:00:00+08:00"))
    summary = run(db, clock)
    assert (summary.corrected, summary.escalated) == (1, 0)
    signal = only(session, "Y1")
    assert (signal.color, signal.status) == ("yellow", "corrected")
    assert [(e.action, e.from_status, e.to_status, e.note) for e in signal.events] == [
        ("correct", "issued", "corrected", "办件已办结")
    ]
    clock.set_shanghai(2026, 12, 1)
    assert run(db, clock).escalated == 0 and only(session, "Y1").status == "corrected"


def _shenzhen_county(session: Session, registry: dict[str, int]) -> None:
    region = session.get(Region, registry["county_region"])
    assert region is not None
    region.rule_profile = "shenzhen-2007"  # SZ-10 green warnings for the county's hall only
    session.commit()


def test_shenzhen_halls_get_green_warnings_and_catch_up_after_downtime(
    client: TestClient, registry: dict[str, int], db: Engine, session: Session, clock: FakeClock
) -> None:
    _shenzhen_county(session, registry)
    item = add_county_item(session, registry)
    clock.set_shanghai(2026, 10, 15)
    push(
        client,
        accepted("K1", "2026-09-24", hall_code=COUNTY, item_code=item),  # due Thursday 10-15
        accepted("K2", "2026-10-08", hall_code=COUNTY, item_code=item),  # due Wednesday 10-21
        accepted("P1", "2026-09-24"),  # due 10-15 too, but in a Sichuan hall: no green warning
    )
    assert run(db, clock).green == 1
    green = [s for s in signals_of(session, "K1") if s.color == "green"]
    assert len(green) == 1 and green[0].reason_code == "due_date" and green[0].origin == "due_date"
    assert green[0].dedupe_key == f"green:{green[0].case_id}:2026-10-15"
    assert all(s.color != "green" for s in signals_of(session, "P1"))

    clock.set_shanghai(2026, 10, 19)  # Monday: last run before the outage
    assert run(db, clock).green == 0
    clock.set_shanghai(2026, 10, 23)  # back on Friday after three days down over K2's due date
    assert run(db, clock).green == 1
    caught = [s for s in signals_of(session, "K2") if s.color == "green"]
    assert len(caught) == 1 and caught[0].dedupe_key.endswith(":2026-10-21")  # type: ignore[union-attr]
    assert caught[0].issued_on == date(2026, 10, 23)
    assert run(db, clock).issued == 0


def test_two_schedulers_at_once_neither_fails_nor_duplicates(
    lights: None, client: TestClient, db: Engine, session: Session, clock: FakeClock
) -> None:
    run(db, clock)  # Friday: Y1 yellow, R1 red
    clock.set_shanghai(2026, 12, 1)
    push(client, accepted("Y3", "2026-11-20"), accepted("R3", "2026-11-05"))  # yellow and red as of Tuesday
    barrier = threading.Barrier(2)
    summaries: list[RunSummary] = []
    failures: list[BaseException] = []

    def scheduler(name: str) -> None:
        with make_session_factory(db)() as s:
            calendar = load_calendar(s)
            barrier.wait()
            try:
                summaries.append(
                    run_signals(
                        s, now=clock(), calendar=calendar, default_profile="sichuan-2011", instance=name
                    )
                )
            except BaseException as exc:  # reported below: a failure must not hide in a thread
                failures.append(exc)

    threads = [threading.Thread(target=scheduler, args=(f"central-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == [] and len(summaries) == 2
    # Y3 and R3 issued once and Y1 escalated once, by one run or the other.
    assert sum(s.issued for s in summaries) == 2 and sum(s.escalated for s in summaries) == 1
    assert total(session) == 4
    keys = session.scalars(select(Signal.dedupe_key)).all()
    assert len(keys) == len(set(keys))
    assert len(only(session, "Y1").events) == 1
    assert session.scalar(select(func.count(SignalRun.id))) == 3
    assert verify(session).ok


def test_serve_runs_the_scheduler_in_the_background(
    lights: None, db: Engine, session: Session, clock: FakeClock
) -> None:
    settings = Settings(
        database_url=db.url.render_as_string(hide_password=False), signal_interval_seconds=3600
    )
    with TestClient(create_app(settings, engine=db, clock=clock)) as served:
        jobs = served.app.state.jobs  # type: ignore[attr-defined]
        deadline = time.monotonic() + 60
        while jobs.stats("signals").runs == 0 or session.scalar(select(func.count(SignalRun.id))) == 0:
            assert time.monotonic() < deadline, "the first scheduled run did not happen"
            time.sleep(0.05)
            session.expire_all()
    assert not jobs.alive and jobs.stats("signals").failures == 0
    assert only(session, "Y1").color == "yellow"


def test_no_scheduler_when_the_interval_is_zero(db: Engine, settings: Settings, clock: FakeClock) -> None:
    assert settings.signal_interval_seconds == 0
    with TestClient(create_app(settings, engine=db, clock=clock)) as served:
        jobs = served.app.state.jobs  # type: ignore[attr-defined]
        assert "signals" not in jobs.names and not jobs.alive


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"HALLWATCH_DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin", "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "central.cli", "signals", "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_runs_the_scheduler_as_of_a_day(lights: None, settings: Settings, session: Session) -> None:
    done = _cli(settings, "--as-of", "2026-11-27")
    assert done.returncode == 0, done.stderr
    assert "黄色纠错" in done.stdout and "as of 2026-11-27" in done.stdout
    assert only(session, "Y1").issued_on == date(2026, 11, 27)
    future = _cli(settings, "--as-of", "2099-01-01")
    assert future.returncode == 2 and "in the future" in future.stderr
