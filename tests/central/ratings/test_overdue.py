"""Overdue follow-ups raise signals (HCP): the signal scheduler gives a 差评 not rectified by its
deadline one yellow signal (差评整改超期), once; a second run adds none. Deadlines missing for want
of a calendar year are filled in once the year is entered; a follow-up whose rating was corrected
to a good level is withdrawn."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.audit.models import AuditEntry
from central.calendar.schemas import CalendarYearIn
from central.calendar.service import enter_year, load_calendar
from central.core.db import make_session_factory
from central.ratings.models import Rating
from central.ratings.overdue import RATINGS_SIGNAL_SOURCES
from central.signals.models import Signal
from central.signals.scheduler import RunSummary, run_signals
from tests.central.ratings.followup_world import (
    FOLLOWUPS,
    PROFILE,
    World,
    add_case,
    add_rating,
    build_world,
    followup_of,
    sh,
)
from tests.conftest import FakeClock


@pytest.fixture
def world(client: TestClient, db: Engine, session: Session, registry: dict[str, int]) -> World:
    return build_world(client, db, session, registry)


def run(db: Engine, clock: FakeClock) -> RunSummary:
    with make_session_factory(db)() as s:
        return run_signals(
            s,
            now=clock(),
            calendar=load_calendar(s),
            default_profile=PROFILE,
            instance="test",
            sources=RATINGS_SIGNAL_SOURCES,
        )


def followup_signals(session: Session) -> list[Signal]:
    session.expire_all()
    return list(session.scalars(select(Signal).where(Signal.origin == "followup").order_by(Signal.id)))


def test_an_overdue_followup_raises_one_yellow_signal_once(
    client: TestClient, db: Engine, session: Session, world: World, clock: FakeClock
) -> None:
    """As of Fri 2026-11-27: the 差评 of 11-02 was due 11-23; the one of 11-20 is due 12-11."""
    add_case(client, "HW-O1")
    overdue = add_rating(session, world, level=1, at=sh(2026, 11, 2), case_no="HW-O1")
    add_rating(session, world, level=2, at=sh(2026, 11, 20))  # not yet due
    rectified = add_rating(session, world, level=1, at=sh(2026, 11, 3))
    rectified_followup = followup_of(session, rectified)
    assert rectified_followup is not None
    clerk = world.people["clerk"]
    assert (
        client.post(
            f"{FOLLOWUPS}/{rectified_followup.id}/callback", json={"result": "已联系"}, auth=clerk
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"{FOLLOWUPS}/{rectified_followup.id}/rectify", json={"rectification": "已整改"}, auth=clerk
        ).status_code
        == 200
    )
    nowhere = add_rating(session, world, level=1, at=sh(2026, 11, 4), placed=False)  # no department at all
    nowhere_followup = followup_of(session, nowhere)
    assert nowhere_followup is not None and nowhere_followup.department_id is None

    first = run(db, clock)
    assert (
        first.followup_overdue == 1
        and first.issued == first.followup_overdue + first.light_yellow + first.light_red
    )
    [signal] = followup_signals(session)
    followup = followup_of(session, overdue)
    assert followup is not None
    assert (signal.color, signal.initial_color, signal.reason_code, signal.status) == (
        "yellow",
        "yellow",
        "followup_overdue",
        "issued",
    )
    assert signal.dedupe_key == f"followup:{followup.id}" and signal.issued_by == "system:signals"
    assert (signal.hall_id, signal.department_id) == (world.ids["hall"], world.ids["SCJGJ"])
    assert signal.case_id is not None and signal.issued_on == date(2026, 11, 27)
    assert signal.correct_by == date(2026, 11, 30)  # like every yellow (SZ-11): 1 working day in Sichuan
    assert signal.reason is not None and "2026-11-23" in signal.reason

    clock.advance(hours=2)
    again = run(db, clock)
    assert again.followup_overdue == 0 and len(followup_signals(session)) == 1

    # The signal reads like any other through the signals API, with its reason's label.
    shown = client.get(f"/api/v1/signals/{signal.id}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["origin"] == "followup" and shown.json()["reason_label"] == "差评整改超期"
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "signals.run").order_by(AuditEntry.seq)
    ).first()
    assert entry is not None and '"followup_overdue":1' in (entry.after or "")


def test_deadlines_missing_for_a_calendar_year_are_filled_in_once_entered(
    db: Engine, session: Session, world: World, clock: FakeClock
) -> None:
    clock.set_shanghai(2026, 12, 29, 9)
    rating_id = add_rating(session, world, level=1, at=sh(2026, 12, 28))
    followup = followup_of(session, rating_id)
    assert followup is not None and followup.rectify_due is None
    run(db, clock)
    assert followup_of(session, rating_id).rectify_due is None  # type: ignore[union-attr]

    enter_year(session, entry=CalendarYearIn(year=2027, holidays=[date(2027, 1, 1)]), now=clock())
    session.commit()
    run(db, clock)
    # 12-29, 12-30, 12-31, (01-01 holiday) 01-04 … 01-08, 01-11 … 01-15, 01-18, 01-19: 15 working days.
    assert followup_of(session, rating_id).rectify_due == date(2027, 1, 19)  # type: ignore[union-attr]


def test_a_followup_of_a_rating_corrected_to_good_is_withdrawn(
    db: Engine, session: Session, world: World, clock: FakeClock
) -> None:
    rating_id = add_rating(session, world, level=1, at=sh(2026, 11, 27, 9))
    followup = followup_of(session, rating_id)
    assert followup is not None
    rating = session.get(Rating, rating_id)
    assert rating is not None
    rating.level = 5  # the citizen corrected the press within the correction time
    session.commit()
    run(db, clock)
    assert followup_of(session, rating_id) is None
    session.expire_all()
    withdrawn = session.scalar(
        select(func.count(AuditEntry.seq)).where(AuditEntry.action == "followup.withdraw")
    )
    assert withdrawn == 1
