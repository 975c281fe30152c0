"""The bulk light paths (counts, every open case's light) agree with the case list."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.calendar.service import load_calendar
from central.cases.lights import count_lights, iter_open_lights, light_expression
from central.cases.models import Case
from central.profiles.assignment import halls_by_profile
from tests.central.cases.helpers import ev


def test_bulk_lights_match_the_list(client: TestClient, registry, session: Session, clock) -> None:
    batch = []
    for n, day in enumerate(range(1, 27)):
        at = f"2026-10-{day:02d}T09:00:00+08:00"
        batch.append(ev(f"a{n}", f"C{n:02d}", "accepted", at))
        if n % 5 == 0:
            batch.append(
                ev(f"s{n}", f"C{n:02d}", "suspended", f"2026-10-{day:02d}T15:00:00+08:00", reason="检测")
            )
        if n % 7 == 0 and n % 5:
            batch.append(ev(f"d{n}", f"C{n:02d}", "completed", f"2026-10-{day:02d}T16:00:00+08:00"))
    batch.append(ev("r1", "R1", "received", "2026-11-20T09:00:00+08:00"))
    assert client.post("/api/v1/cases/events", json=batch).status_code == 200
    clock.set_shanghai(2026, 11, 2)
    listed = {
        c["case_no"]: c["light"]
        for c in client.get("/api/v1/cases", params={"page_size": 500}).json()["items"]
    }

    light = light_expression(
        as_of=date(2026, 11, 2),
        calendar=load_calendar(session),
        halls_by_profile=halls_by_profile(session, default_key="sichuan-2011"),
        default_key="sichuan-2011",
    )
    numbers = dict(session.execute(select(Case.id, Case.case_no)).all())
    for chunk in (1_000_000, 4):  # one query, and many id ranges
        pairs = list(iter_open_lights(session, light=light, chunk=chunk))
        assert [i for i, _ in pairs] == sorted(i for i, _ in pairs)
        assert {numbers[i]: lit for i, lit in pairs} == {
            n: lit for n, lit in listed.items() if n not in {"C07", "C14", "C21"}
        }
    counts = count_lights(session, light=light)
    values = [lit for lit in listed.values()]
    assert (counts.green, counts.yellow, counts.red) == (
        values.count("green"),
        values.count("yellow"),
        values.count("red"),
    )
    assert counts.unknown == 1  # the case that was only received has no clock yet
    assert {"green", "yellow", "red"} <= set(values)
